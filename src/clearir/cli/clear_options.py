"""Help texts and flags of CLEAR's options, shared by ``clearir train`` and ``clearir run``."""

from __future__ import annotations

CLEAR_OPTIONS: dict[str, tuple[str, ...]] = {
    "alpha": ("CLEAR: weight of the reverse term.",),
    "beta": ("CLEAR: weight of the KL term.",),
    "kl": ("CLEAR: use the KL term.", "--kl/--no-kl"),
    "symmetric_kl": (
        "CLEAR variant: symmetric KL, ½(KL(rev‖fwd) + KL(fwd‖rev)); --paper-kl: KL(rev‖fwd).",
        "--symmetric-kl/--paper-kl",
    ),
    "bidirectional_reverse": (
        "CLEAR variant: q_L → passages added to the reverse term; --paper-reverse: p+ → queries only.",
        "--bidirectional-reverse/--paper-reverse",
    ),
}
