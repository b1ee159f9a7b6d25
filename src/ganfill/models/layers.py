"""Building blocks shared by the networks."""

from __future__ import annotations

from torch import nn


def conv_down(cin: int, cout: int, norm: bool, slope: float) -> list[nn.Module]:
    """A stride-2 4x4 convolution (halves the side), optional batch norm, LeakyReLU."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(slope, inplace=True))
    return layers
