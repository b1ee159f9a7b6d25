"""A training run set up from its options, one builder per recipe: what ``ganfill train-*`` runs.

Each builder checks its options (a ``ValueError`` with a one-line message for a bad one), reads
what the run needs (the GAN it trains against, the completer of the refiner's input, D for an
adversarial loss), seeds the weight initialisation and returns the :class:`~.loop.Recipe`;
:func:`train` runs it with :func:`~.loop.fit`.  When resuming, the config stored in the run's
checkpoint wins over the options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import CHECKPOINT, saved_config
from .distributed import Dist, setup_distributed
from .loop import LoopConfig, Recipe, fit
from .seeding import seed_init


@dataclass
class RunOptions:
    """The options every recipe takes: data, run folder, loop, device (the loop's defaults are
    :class:`~.loop.LoopConfig`'s)."""

    out: Path
    data: Path | None = None          # face images (default: shared celeba/train, at 128 px celeba-wild/train)
    epochs: int = LoopConfig.epochs
    batch_size: int = LoopConfig.batch_size
    seed: int = LoopConfig.seed
    resume: bool = False
    checkpoint_minutes: float = LoopConfig.checkpoint_minutes
    max_steps: int | None = LoopConfig.max_steps
    max_minutes: float | None = LoopConfig.max_minutes
    limit: int | None = None          # only the first N images
    dry_run: bool = False             # a few steps on random images, for smoke tests
    device: str = "auto"
    no_progress: bool = False
    dump_replicas: bool = LoopConfig.dump_replicas

    def dataset(self, size: int):
        """The training faces at ``size`` px.  By default the thesis's 64-px crops (celeba/train),
        and at 128 px the in-the-wild faces (celeba-wild/train less its validation split)."""
        from ..data import WILD_SIZE, WILD_VALIDATION, ArrayFaces, FaceFolder, default_data_root, without_wild_validation
        from ..data.dataset import MODEL_SIZE

        if self.dry_run:
            import numpy as np
            rng = np.random.default_rng(self.seed)
            shape = (self.batch_size * 4, size, size, 3)
            return ArrayFaces(rng.integers(0, 256, size=shape, dtype=np.uint8), flip=True)
        if size == WILD_SIZE:
            # Less the validation split, told by file name: a folder may hold only a share of the faces.
            folder = self.data or default_data_root() / "celeba-wild" / "train"
            faces = FaceFolder(folder, limit=None if self.data else WILD_VALIDATION.start, size=size,
                               progress=not self.no_progress)
            return without_wild_validation(faces, self.limit)
        if self.data is None and size != MODEL_SIZE:
            raise ValueError(f"no default training faces at {size} px; give --data")
        folder = self.data or default_data_root() / "celeba" / "train"
        return FaceFolder(folder, flip=True, limit=self.limit, size=size, progress=not self.no_progress)

    def loop(self) -> LoopConfig:
        max_steps = self.max_steps if self.max_steps is not None else (3 if self.dry_run else None)
        return LoopConfig(epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
                          checkpoint_minutes=self.checkpoint_minutes, max_steps=max_steps,
                          max_minutes=self.max_minutes, progress=not self.no_progress,
                          dump_replicas=self.dump_replicas)

    def saved(self, cls):
        return saved_config(self.out, cls, self.resume)


def glimpse_faces(size: int | None = None):
    """8 faces no model trains on, shown at each epoch's end: the first celeba/test faces at 64 px,
    the first validation faces at 128 (None when the data is not there)."""
    from ..data import MODEL_SIZE, WILD_SIZE, FaceFolder, default_data_root, to_tensor, wild_validation_faces

    if size == WILD_SIZE:
        wild = default_data_root() / "celeba-wild" / "train"
        return to_tensor(wild_validation_faces(8)) if wild.is_dir() else None
    if size not in (None, MODEL_SIZE):
        return None
    test_dir = default_data_root() / "celeba" / "test"
    return FaceFolder(test_dir, limit=8).batch(range(8)) if test_dir.is_dir() else None


def build_gan(run: RunOptions, env: Dist, config: str = "half", loss: str | None = None) -> Recipe:
    from ..models.gan import GANConfig
    from .gan import GANRecipe, gan_config

    cfg = run.saved(GANConfig) or gan_config(config, loss)
    seed_init(run.seed)
    return GANRecipe(cfg, env.device, sample_seed=run.seed, fd_faces=fd_faces(cfg))


def fd_faces(cfg):
    """The real faces of a GAN run's sample FD-dlib: the first ``fd_reals`` validation faces, for a
    128-px G that asks for the measure and when dlib and the data are there (else None, said once)."""
    from ..data import WILD_SIZE, default_data_root, wild_validation_faces
    from ..face_descriptors import descriptor_unavailable

    if cfg.fd_samples <= 0 or cfg.generator.size != WILD_SIZE:
        return None
    why = descriptor_unavailable() or (None if (default_data_root() / "celeba-wild" / "train").is_dir()
                                       else "no celeba-wild/train faces to compare with")
    if why:
        print(f"sample FD-dlib off: {why}")
        return None
    return wild_validation_faces(cfg.fd_reals)


def build_encoder(run: RunOptions, env: Dist, config: str = "default", gan: Path | None = None) -> Recipe:
    from ..models.encoder import ENCODER_PRESETS, EncoderConfig
    from ..weights import GAN_WEIGHTS, load_gan, shipped
    from .encoder import EncoderRecipe, EncoderTrainConfig

    cfg = run.saved(EncoderTrainConfig)
    if cfg is not None:
        cfg.mask_kinds = tuple(cfg.mask_kinds)
    else:
        if config not in ENCODER_PRESETS:
            raise ValueError(f"unknown encoder config {config!r}; choose from {', '.join(ENCODER_PRESETS)}")
        cfg = EncoderTrainConfig(encoder=EncoderConfig(**vars(ENCODER_PRESETS[config])),
                                 gan_weights=str(gan or shipped(GAN_WEIGHTS.name)))
    G, _ = load_gan(cfg.gan_weights if run.resume and cfg.gan_weights else gan, env.device)
    if G.config.z_dim != cfg.encoder.z_dim:
        cfg.encoder.z_dim = G.config.z_dim
    seed_init(run.seed)
    return EncoderRecipe(cfg, G, env.device, glimpse_faces(cfg.encoder.size))


def refiner_config(arch: str = "unet", input: str = "lsgan", adv_weight: float = 0.0, iterations: int | None = None,
                   ssim_weight: float = 0.0, init: Path | None = None, lr: float | None = None,
                   gan: Path | None = None, encoder: Path | None = None):
    """A new refiner run's :class:`~.refiner.RefinerTrainConfig` from the options of ``train-refiner``."""
    from ..inpaint.inpainter import PRESETS
    from ..models.io import load_tensors
    from ..models.refiner import REFINER_PRESETS, RefinerConfig
    from ..weights import ENCODER_WEIGHTS, GAN_WEIGHTS, load_refiner, shipped
    from .refiner import RefinerTrainConfig

    if arch not in REFINER_PRESETS:
        raise ValueError(f"unknown refiner architecture {arch!r}; choose from {', '.join(REFINER_PRESETS)}")
    if adv_weight < 0 or ssim_weight < 0:
        raise ValueError("--adv-weight and --ssim-weight must be >= 0")
    iterations = PRESETS["fast"].search.iterations if iterations is None else iterations
    if iterations < 1:
        raise ValueError("--iterations must be at least 1")
    needs_gan = input == "lsgan" or adv_weight > 0
    gan = gan or (shipped(GAN_WEIGHTS.name) if needs_gan else None)
    encoder = encoder or (shipped(ENCODER_WEIGHTS.name) if input == "lsgan" else None)
    cfg = RefinerTrainConfig(refiner=RefinerConfig(**vars(REFINER_PRESETS[arch])), input=input,
                             adv_weight=adv_weight, ssim_weight=ssim_weight, search_iterations=iterations,
                             gan_weights=str(gan) if needs_gan else "",
                             encoder_weights=str(encoder) if input == "lsgan" else "")
    if lr is not None:
        cfg.lr = lr
    if init is not None:   # fine-tune: the starting file's architecture wins over --arch
        cfg.refiner = load_refiner(init, "cpu", input=input).config
        cfg.init_weights = str(init)
    if needs_gan:   # the discriminator's targets, as the LSGAN was trained with them
        cfg.adv_loss = load_tensors(gan)[1].get("config", {}).get("loss", cfg.adv_loss)
    return cfg


def start_from_init(R, cfg, run: RunOptions, env: Dist) -> None:
    """Load the refiner weights a fine-tune starts from, ``cfg.init_weights`` (not when resuming: the
    checkpoint holds them).  A detail head the starting network lacks keeps its zero start."""
    from ..weights import load_refiner

    if not cfg.init_weights or (run.resume and (run.out / CHECKPOINT).exists()):
        return
    try:
        missing, unexpected = R.load_state_dict(load_refiner(cfg.init_weights, env.device).state_dict(), strict=False)
    except RuntimeError:        # a tensor of another shape
        missing, unexpected = [], ["?"]
    if unexpected or any(not k.startswith("net.head.") for k in missing):
        raise ValueError(f"--init {cfg.init_weights}: its weights do not fit this run's refiner")


def build_refiner(run: RunOptions, env: Dist, **options) -> Recipe:
    from ..inpaint import Inpainter
    from ..weights import load_gan
    from .refiner import EmptyHoleCompleter, LSGANCompleter, RefinerRecipe, RefinerTrainConfig

    cfg = run.saved(RefinerTrainConfig) or refiner_config(**options)
    D = None
    if cfg.input == "lsgan":
        inpainter = Inpainter.from_pretrained("fast", device=env.device, gan_weights=cfg.gan_weights,
                                              encoder_weights=cfg.encoder_weights,
                                              iterations=cfg.search_iterations, blend=cfg.blend)
        completer = LSGANCompleter(inpainter)
        D = inpainter.D
    else:
        completer = EmptyHoleCompleter()
        if cfg.adv_weight > 0:
            D = load_gan(cfg.gan_weights, env.device)[1]
    seed_init(run.seed)
    recipe = RefinerRecipe(cfg, completer, D if cfg.adv_weight > 0 else None, env.device, glimpse_faces())
    start_from_init(recipe.R, cfg, run, env)
    return recipe


def build_photo_refiner(run: RunOptions, env: Dist, **options) -> Recipe:
    from ..inpaint import Inpainter
    from .photo_refiner import (PhotoRefinerRecipe, PhotoRefinerTrainConfig, UpscaledLSGANCompleter,
                                photo_refiner_config)

    cfg = run.saved(PhotoRefinerTrainConfig) or photo_refiner_config(**options)
    inpainter = Inpainter.from_pretrained("fast", device=env.device, gan_weights=cfg.gan_weights,
                                          encoder_weights=cfg.encoder_weights, iterations=cfg.search_iterations)
    seed_init(run.seed)
    recipe = PhotoRefinerRecipe(cfg, UpscaledLSGANCompleter(inpainter), env.device, glimpse_faces(cfg.size))
    start_from_init(recipe.R, cfg, run, env)
    return recipe


def build_context_encoder(run: RunOptions, env: Dist, config: str = "default",
                          adv_weight: float | None = None) -> Recipe:
    from .context_encoder import ContextEncoderRecipe, ContextEncoderTrainConfig, context_encoder_config

    cfg = run.saved(ContextEncoderTrainConfig)
    if cfg is None:
        if adv_weight is not None and adv_weight < 0:
            raise ValueError("--adv-weight must be >= 0")
        cfg = context_encoder_config(config, adv_weight)
    seed_init(run.seed)
    return ContextEncoderRecipe(cfg, env.device, glimpse_faces())


BUILDERS = {"gan": build_gan, "encoder": build_encoder, "refiner": build_refiner,
            "photo-refiner": build_photo_refiner, "context-encoder": build_context_encoder}
RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunOptions))
#: each recipe's default number of epochs (the photo refiner's: the shipped run's)
EPOCHS = {"gan": 25, "encoder": 10, "refiner": 20, "photo-refiner": 23, "context-encoder": 20}


def train_defaults(kind: str) -> dict:
    """The defaults of recipe ``kind``'s options, by name (what ``ganfill train-KIND`` shows): the
    fields of :class:`RunOptions`, then the builder's own keyword arguments."""
    import inspect

    run = {f.name: f.default for f in dataclasses.fields(RunOptions) if f.default is not dataclasses.MISSING}
    if kind == "photo-refiner":
        from .photo_refiner import photo_refiner_defaults
        own = photo_refiner_defaults()
    else:
        params = inspect.signature(refiner_config if kind == "refiner" else BUILDERS[kind]).parameters
        own = {name: p.default for name, p in params.items() if p.default is not p.empty}
    return {**run, "epochs": EPOCHS[kind], **own}


def train(kind: str, **options) -> dict:
    """Set up and run recipe ``kind`` (a key of :data:`BUILDERS`): the fields of :class:`RunOptions`
    and the builder's own options, by name.  Returns the final progress record."""
    run = RunOptions(**{k: options.pop(k) for k in RUN_FIELDS if k in options})
    env = setup_distributed(run.device)
    recipe = BUILDERS[kind](run, env, **options)
    progress = fit(recipe, run.dataset(recipe.image_size), run.out, run.loop(), env, resume=run.resume)
    if env.main:
        print(f"done: {progress['global_step']} steps, {progress['images_seen']} images seen, "
              f"checkpoint in {run.out / CHECKPOINT}")
    return progress
