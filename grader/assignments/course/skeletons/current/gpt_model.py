"""A character-level GPT (question 7, ungraded). Fill in the two forward methods.

After question 6 works, ``python chargpt.py`` trains this model on Shakespeare and
prints text it generates. The design follows Andrej Karpathy's minGPT, made small
enough to train on a laptop CPU.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F

from models import AttentionBlock


class Transformer_Block(nn.Module):
    """One transformer block: attention, then a one-layer feed-forward step."""

    def __init__(self, n_embd, block_size):
        super().__init__()
        self.attn_block = AttentionBlock(n_embd, block_size)
        self.norm_1 = nn.LayerNorm(n_embd)
        self.linear_1 = nn.Linear(n_embd, n_embd)
        self.norm_2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        """Args: x (B, T, n_embd). Returns (B, T, n_embd).

        1. a = self.attn_block(x)
        2. add the block's input: x + a
        3. normalise that with self.norm_1 (call the result n)
        4. f = F.relu(self.linear_1(n))
        5. add: n + f
        6. normalise that with self.norm_2 and return it
        """
        "*** YOUR CODE HERE ***"


class Character_GPT(nn.Module):
    """Predicts each next character of a sequence from the characters before it."""

    def __init__(self, block_size, n_embd, n_layer, vocab_size):
        super().__init__()
        self.block_size = block_size
        self.embed = nn.Embedding(vocab_size, n_embd)
        self.transformer_blocks = nn.ModuleList(
            [Transformer_Block(n_embd, block_size) for _ in range(n_layer)])
        self.norm = nn.LayerNorm(n_embd)
        self.output_layer = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, input):
        """Args: input (B, T) int64 character indices, T <= block_size.
        Returns (B, T, vocab_size) scores for the character after each position.

        Embed the characters (self.embed), apply every block of
        self.transformer_blocks in turn, then self.norm, then self.output_layer
        (no activation after it: these are logits, like in questions 3-5).
        """
        "*** YOUR CODE HERE ***"

    def get_loss(self, input, target):
        """Cross-entropy of the predictions for ``input`` (B, T) against ``target``
        (B, T), the same characters shifted by one."""
        output = self(input)                                   # (B, T, vocab_size)
        return F.cross_entropy(output.view(-1, output.size(-1)), target.view(-1),
                               ignore_index=-1)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        """Extend ``idx`` (B, T) by sampling ``max_new_tokens`` characters, one at a
        time, each conditioned on (at most block_size) characters before it."""
        for _ in range(max_new_tokens):
            context = idx[:, -self.block_size:]                # (B, <= block_size)
            logits = self(context)[:, -1, :]                   # (B, vocab_size)
            probabilities = F.softmax(logits, dim=-1)
            next_char = torch.multinomial(probabilities, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, next_char), dim=1)           # (B, T + 1)
        return idx
