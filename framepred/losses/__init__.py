"""Training losses: pixel (L1, Laplacian pyramid) and perceptual (VGG19 features, plain torch)."""

from framepred.losses.pixel import LaplacianLoss, gaussian_kernel, l1_loss, laplacian_pyramid

__all__ = ["LaplacianLoss", "gaussian_kernel", "l1_loss", "laplacian_pyramid"]
