"""The assignment "an MLP by hand, then a CNN in torch": a multi-layer perceptron in
numpy with hand-written back-propagation, and a small convolutional network, both
on MNIST and graded on a scale around an accuracy mark."""
