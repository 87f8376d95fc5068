"""The warm-up "first networks": four quadrants, then a fully connected network on
standardised MNIST with periodic evaluation, and its mistakes."""
