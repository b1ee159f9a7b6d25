"""The sizes the networks work at, in a module that imports nothing (read by the method catalog)."""

#: the side of the thesis's face crops and of the 64-px networks
MODEL_SIZE = 64
#: the side of the in-the-wild faces the photo refiner works at
WILD_SIZE = 128
