"""Baselines behind the same ``(image, mask) -> image`` contract as the LSGAN methods: the classical
methods (``classical``) and the Context Encoder of Pathak et al. 2016 (``context_encoder``)."""
