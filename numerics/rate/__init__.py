"""Rate RNNs (tanh or linear units): the model with exact BPTT, the tasks of the Schuessler et al. nonlinear check, the losses, the torch-free trainer and the low-rank analyses of ΔW."""
