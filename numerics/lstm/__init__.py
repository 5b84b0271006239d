"""A NumPy LSTM with exact gradients, the synthetic (or SST/GloVe) sentiment task and the rank-truncation analyses of the trained weights."""
