"""Train the character-level GPT of question 7 and watch it learn to write.

    python chargpt.py                        # train on data/shakespeare.txt
    python chargpt.py --iterations 500       # a shorter run
    python chargpt.py --input my_text.txt --prompt "Once upon a time"
    python chargpt.py --dry-run              # a few seconds: checks that everything runs
    python chargpt.py --plot loss.png        # also save the loss curve as a picture

Fill in ``Transformer_Block.forward`` and ``Character_GPT.forward`` in gpt_model.py
(and ``AttentionBlock.forward`` in models.py, question 6) first. Every
``--sample-every`` iterations the script prints text the model generates from
``--prompt``; it starts as noise and turns into something play-shaped.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

import torch

DEFAULT_INPUT = Path(__file__).resolve().parent / "data" / "shakespeare.txt"


class ModelNotReady(Exception):
    """The student's model code is missing or raises; the message says which part."""


class Vocabulary:
    """Maps each distinct character of a text to an index and back."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters not in the training text: {unknown!r}")
        return torch.tensor([self.index[ch] for ch in text], dtype=torch.long)

    def decode(self, indices) -> str:
        return "".join(self.chars[i] for i in indices)


def parse_args(argv=None, default_input: Path = DEFAULT_INPUT) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train gpt_model.Character_GPT on a text file and print samples.")
    parser.add_argument("--input", type=Path, default=default_input,
                        help="UTF-8 text file to learn from (default: data/shakespeare.txt)")
    parser.add_argument("--iterations", type=int, default=3000,
                        help="number of training steps (default: 3000)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="sequences per training step (default: 32)")
    parser.add_argument("--lr", type=float, default=2e-3,
                        help="Adam learning rate (default: 2e-3)")
    parser.add_argument("--block-size", type=int, default=64,
                        help="characters of context the model sees (default: 64)")
    parser.add_argument("--layers", type=int, default=4,
                        help="number of transformer blocks (default: 4)")
    parser.add_argument("--width", type=int, default=128,
                        help="embedding width n_embd (default: 128)")
    parser.add_argument("--prompt", default="ROMEO:\n",
                        help="text that generated samples start from (default: 'ROMEO:\\n')")
    parser.add_argument("--sample-length", type=int, default=300,
                        help="characters generated per sample (default: 300)")
    parser.add_argument("--sample-every", type=int, default=500,
                        help="print a sample every this many iterations (default: 500)")
    parser.add_argument("--log-every", type=int, default=50,
                        help="print loss and speed every this many iterations (default: 50)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, mps, or auto: a GPU if one is available (default)")
    parser.add_argument("--dry-run", action="store_true",
                        help="train a tiny model for a few steps, to check that everything runs")
    parser.add_argument("--plot", type=Path, metavar="FILE",
                        help="save the training loss curve as a PNG picture in FILE "
                             "(needs matplotlib; no display needed)")
    args = parser.parse_args(argv)
    if args.plot is not None and not args.plot.resolve().parent.is_dir():
        parser.error(f"--plot {args.plot}: the folder {args.plot.resolve().parent} does not exist")
    if args.dry_run:
        args.iterations = min(args.iterations, 20)
        args.layers, args.width, args.block_size = 1, 32, min(args.block_size, 16)
        args.batch_size = min(args.batch_size, 8)
        args.sample_every, args.log_every, args.sample_length = 10, 5, 40
    for name in ("iterations", "batch_size", "block_size", "layers", "width",
                 "sample_every", "log_every"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def pick_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def build_model(args: argparse.Namespace, vocab_size: int, device: torch.device):
    """Import gpt_model, build Character_GPT, and check that its parts return values."""
    try:
        import gpt_model
    except Exception as error:
        raise ModelNotReady(f"gpt_model.py could not be imported:\n{_student_error(error)}")
    model = gpt_model.Character_GPT(args.block_size, args.width, args.layers, vocab_size)
    model.to(device)

    probe = torch.zeros(2, min(4, args.block_size), dtype=torch.long, device=device)  # (B, T)
    hidden = model.embed(probe)                                          # (B, T, width)
    parts = [("models.AttentionBlock.forward (question 6)",
              lambda: model.transformer_blocks[0].attn_block(hidden)),
             ("gpt_model.Transformer_Block.forward", lambda: model.transformer_blocks[0](hidden)),
             ("gpt_model.Character_GPT.forward", lambda: model(probe))]
    for name, run in parts:
        try:
            output = run()
        except Exception as error:
            raise ModelNotReady(f"{name} raised an error:\n{_student_error(error)}")
        if output is None:
            raise ModelNotReady(f"{name} returned None: it is not filled in yet. "
                                "Complete it (see its docstring) and run chargpt.py again.")
    expected = (2, probe.shape[1], vocab_size)
    if tuple(output.shape) != expected:
        raise ModelNotReady(f"gpt_model.Character_GPT.forward returned shape "
                            f"{tuple(output.shape)}; expected (batch, time, vocab_size) = {expected}.")
    return model


def _student_error(error: BaseException, this_file: Path = Path(__file__).resolve()) -> str:
    """The traceback of an error, without the frames of this file."""
    frames = traceback.extract_tb(error.__traceback__)
    frames = [f for f in frames if Path(f.filename).resolve() != this_file] or frames
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


def sample_batch(windows: torch.Tensor, batch_size: int, generator: torch.Generator):
    """Random training pairs: inputs (B, T) and the same characters shifted by one."""
    rows = torch.randint(len(windows), (batch_size,), generator=generator)
    chunk = windows[rows]                                     # (B, T + 1)
    # contiguous: Character_GPT.get_loss flattens targets with .view
    return chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()  # (B, T), (B, T)


def generate_text(model, vocab: Vocabulary, prompt: str, length: int, device) -> str:
    model.eval()
    start = vocab.encode(prompt).unsqueeze(0).to(device)      # (1, len(prompt))
    generated = model.generate(start, length)[0].tolist()
    model.train()
    return vocab.decode(generated)


def train(model, data: torch.Tensor, vocab: Vocabulary, args, device,
          losses: list | None = None) -> float:
    """Train for args.iterations steps; return the last logged average loss.
    Each iteration's loss is appended to ``losses`` (if given) as it comes, so an
    interrupted run keeps the losses so far."""
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    windows = data.unfold(0, args.block_size + 1, 1)          # (N - T, T + 1), a view
    generator = torch.Generator().manual_seed(args.seed)
    running, count, average = 0.0, 0, float("nan")
    started = time.perf_counter()
    for iteration in range(1, args.iterations + 1):
        x, y = (t.to(device) for t in sample_batch(windows, args.batch_size, generator))
        loss = model.get_loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running, count = running + loss.item(), count + 1
        if losses is not None:
            losses.append(loss.item())

        if iteration % args.log_every == 0 or iteration == args.iterations:
            average, elapsed = running / count, time.perf_counter() - started
            print(f"iter {iteration:>6}/{args.iterations} | loss {average:.3f} | "
                  f"{iteration / elapsed:.1f} it/s", flush=True)
            running, count = 0.0, 0
        if iteration % args.sample_every == 0 or iteration == args.iterations:
            text = generate_text(model, vocab, args.prompt, args.sample_length, device)
            print(f"--- sample after {iteration} iterations ---\n{text}\n---", flush=True)
    return average


def plot_losses(losses: list, path: Path, log_every: int, title: str) -> None:
    """Write the loss of every iteration, and its average over each block of
    ``log_every`` iterations (the numbers printed while training), as a PNG."""
    # Imported here: only --plot needs matplotlib, and no window is opened.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    blocks = [losses[start:start + log_every] for start in range(0, len(losses), log_every)]
    ends = [min(log_every * (number + 1), len(losses)) for number in range(len(blocks))]
    averages = [sum(block) / len(block) for block in blocks]
    figure = Figure(figsize=(7.5, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    # Okabe-Ito sky blue and blue: colours colour-blind readers tell apart.
    ax.plot(range(1, len(losses) + 1), losses, color="#56B4E9", lw=0.8,
            label="loss of each iteration")
    ax.plot(ends, averages, "-o", color="#0072B2", lw=2, ms=3,
            label=f"average over {log_every} iterations (as printed)")
    ax.set(xlabel="iteration", ylabel="cross-entropy loss (nats per character)",
           title=f"{title}: average loss {averages[-1]:.3f} after {len(losses)} iterations")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    figure.savefig(path, format="png")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        text = args.input.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"chargpt.py: cannot read --input {args.input}: {error}", file=sys.stderr)
        return 2
    if len(text) <= args.block_size + 1:
        print(f"chargpt.py: {args.input} has {len(text)} characters; it needs more than "
              f"--block-size ({args.block_size}) + 1.", file=sys.stderr)
        return 2
    vocab = Vocabulary(text)
    try:
        vocab.encode(args.prompt)
    except ValueError as error:
        print(f"chargpt.py: the --prompt has {error}", file=sys.stderr)
        return 2

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    try:
        model = build_model(args, len(vocab), device)
    except ModelNotReady as problem:
        print(f"chargpt.py: {problem}", file=sys.stderr)
        return 1
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{len(text):,} characters, vocabulary of {len(vocab)}; model with "
          f"{parameters:,} parameters on {device}; {args.iterations} iterations", flush=True)
    losses = []
    try:
        train(model, vocab.encode(text), vocab, args, device, losses)
    except KeyboardInterrupt:
        print("\nstopped; one last sample:")
        print(generate_text(model, vocab, args.prompt, args.sample_length, device))
    if args.plot is not None and losses:
        try:
            plot_losses(losses, args.plot, args.log_every, f"Character GPT on {args.input.name}")
        except (ImportError, OSError) as error:
            print(f"chargpt.py: cannot write --plot {args.plot}: {error}", file=sys.stderr)
            return 2
        print(f"loss curve saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
