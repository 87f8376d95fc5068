"""The course's project (perceptron to character GPT), in its published versions."""
