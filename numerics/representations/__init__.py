"""Representations of chaotic RNNs after Farrell et al. 2022: dimensionality (participation ratio), Lyapunov spectra, cluster-classification tasks and the logistic read-out."""
