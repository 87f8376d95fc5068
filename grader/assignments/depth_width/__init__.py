"""The assignment "depth against width, and a CNN under a budget": Sequential
networks for MNIST under hidden-unit budgets, a convolutional network under a
parameter budget, and the written problems that have exact answers."""
