"""Integer codes the kernels use for settings (kept apart so that importing them loads no Numba)."""

SIGMOID, TANH, RELU = 0, 1, 2
MSE, BCE = 0, 1
OPT_SGD, OPT_MOMENTUM, OPT_ADAM = 0, 1, 2  # kernel steps (`engine._kernels.apply_update`); names: `engine.optimizers`

ACTIVATION_CODES = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU}
LOSS_CODES = {"mse": MSE, "bce": BCE}
