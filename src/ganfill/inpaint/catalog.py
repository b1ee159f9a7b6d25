"""What each registered method is, written once and read without importing the method.

``ganfill methods``, the server's list and its cost limits read this table without loading torch or
any network; each method class takes its fields from its entry when the class is defined
(:meth:`~ganfill.inpaint.base.InpaintMethod.__init_subclass__`), so the class and the listing
cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data.sizes import MODEL_SIZE, WILD_SIZE


@dataclass(frozen=True)
class MethodInfo:
    target: str                      # "module:Class"
    description: str                 # one line for `ganfill methods`
    fixed_size: int | None = None    # the side the method needs its input at (None: any size)
    gives_candidates: bool = False   # whether K > 1 candidates differ (a method with randomness)
    #: "fast" (well under a second per photo on a CPU), "medium" (about a second) or "slow" (tens
    #: of seconds): measured in docs/results.md
    speed: str = "fast"
    #: whether time and memory are bounded whatever the photo and hole (a server turns the others
    #: off unless its operator turns them on)
    bounded_cost: bool = True


CATALOG: dict[str, MethodInfo] = {
    "mean": MethodInfo("ganfill.baselines.classical:MeanFill", "the mean colour of the known pixels"),
    "telea": MethodInfo("ganfill.baselines.classical:Telea", "OpenCV's Telea fast marching"),
    "navier-stokes": MethodInfo("ganfill.baselines.classical:NavierStokes", "OpenCV's Navier-Stokes"),
    # FSR's time grows steeply with the hole: 90 s for a 500-px square
    "fsr": MethodInfo("ganfill.baselines.classical:FSR", "OpenCV's frequency-selective reconstruction (fast)",
                      speed="medium", bounded_cost=False),
    "classical": MethodInfo("ganfill.baselines.classical:Classical",
                            "each part of the hole by FSR if small and in texture, else by Navier-Stokes"),
    # a sparse solve over the hole: 33 s and 3 GB for a 700 x 700 hole in a 1,024-px photo
    "biharmonic": MethodInfo("ganfill.baselines.classical:Biharmonic", "scikit-image's biharmonic inpainting",
                             speed="medium", bounded_cost=False),
    "lsgan": MethodInfo("ganfill.inpaint.inpainter:LSGANMethod",
                        "LSGAN latent search from the encoder's start, Poisson-blended",
                        fixed_size=MODEL_SIZE, gives_candidates=True),
    # 1,500 search steps per candidate: minutes for eight candidates
    "lsgan-yeh": MethodInfo("ganfill.inpaint.inpainter:LSGANYehMethod",
                            "Yeh et al.'s protocol: a random start, 1,500 Adam iterations",
                            fixed_size=MODEL_SIZE, gives_candidates=True, speed="slow", bounded_cost=False),
    "lsgan+ae": MethodInfo("ganfill.inpaint.refine:LSGANRefineMethod",
                           "the LSGAN's completion refined by our U-Net autoencoder (the thesis's joint model)",
                           fixed_size=MODEL_SIZE, gives_candidates=True),
    "lsgan+ae-paper": MethodInfo("ganfill.inpaint.refine:LSGANPaperRefineMethod",
                                 "the LSGAN's completion refined by the thesis's autoencoder",
                                 fixed_size=MODEL_SIZE, gives_candidates=True),
    "ae-only": MethodInfo("ganfill.inpaint.refine:AEOnlyMethod",
                          "the refiner alone on the emptied hole, no GAN (the ablation)", fixed_size=MODEL_SIZE),
    "lsgan+ae-wild": MethodInfo("ganfill.inpaint.refine:WildRefineMethod",
                                "the LSGAN's completion scaled to 128 px and refined by a U-Net trained on "
                                "in-the-wild faces against a patch discriminator",
                                fixed_size=WILD_SIZE, gives_candidates=True),
    # the default: a fill needs no face, and a hole off the face never goes through the face model
    "portrait": MethodInfo("ganfill.inpaint.portrait:PortraitMethod",
                           "each part of the hole by what suits it: the parts on a face by lsgan+ae-wild in "
                           "that face's crop, the rest (and a photo with no face) by `classical` (FSR or Navier-Stokes)",
                           fixed_size=WILD_SIZE, gives_candidates=True),
    "context-encoder": MethodInfo("ganfill.baselines.context_encoder:ContextEncoderMethod",
                                  "Context Encoder (Pathak et al. 2016), one forward pass", fixed_size=MODEL_SIZE),
}

#: what `ganfill inpaint`, the server, the web page and ganfill.Pipeline use when no method is named
DEFAULT_METHOD = "portrait"
