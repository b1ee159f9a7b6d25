"""Classical inpainting methods behind the same ``(image, mask) -> image`` contract as the learned ones."""
