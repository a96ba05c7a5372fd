"""The Keras analysis: what a file's names, models, layers, subclasses and ``trainable`` changes are, as the rules ask."""
