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


def dcgan_down(cin: int, channels: tuple[int, ...], norm: bool, slope: float) -> list[nn.Module]:
    """DCGAN's encoding stack: one :func:`conv_down` per width in ``channels`` (64 px -> 4 px for
    four), batch norm on every layer but the first.  A flat list, so a ``Sequential`` of it keeps
    the layer indices (and the weights files' names) of the layers written out one by one."""
    layers: list[nn.Module] = []
    for i, cout in enumerate(channels):
        layers += conv_down(cin, cout, norm and i > 0, slope)
        cin = cout
    return layers
