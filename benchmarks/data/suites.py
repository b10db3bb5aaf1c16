"""The two suites: ``quick`` (a sanity pass, CI) and ``full`` (the real measurement)."""

from __future__ import annotations

from benchmarks.data import sources
from benchmarks.data.items import ItemSpec

__all__ = ["CALLS", "SUITES", "long_mono_spec", "long_stereo_spec", "suite_specs"]

SUITES = ("quick", "full")

# Voices of each generated call; the first is the rep.
CALLS: dict[str, tuple[str, ...]] = {
    "real2": ("real:speaker90", "real:speaker91"),
    "real3": ("real:MEE009", "real:FEE083", "real:MÉO069"),
    "real4": ("real:FEE083", "real:MÉO069", "real:MEE009", "real:FEE078"),
    "tts2": ("tts:flite-rms", "tts:espeak-gb-f2"),
    "tts3": ("tts:espeak-us-m3", "tts:flite-slt", "tts:flite-awb"),
    "tts4": ("tts:espeak-rp-m1", "tts:espeak-029-f4", "tts:flite-kal16", "tts:flite-slt"),
}
_CONDITIONS = ("clean16k", "telephony", "stereo", "dupmono")
_DUPMONO_CALLS = ("real2", "tts3", "tts4")  # mostly a test of the layout decision


def _generated(call: str, condition: str, duration_s: float, seed: int) -> ItemSpec:
    codec = None
    if condition == "telephony":  # half the calls mu-law, half GSM 6.10
        codec = "gsm" if list(CALLS).index(call) % 2 else "ulaw"
    return ItemSpec(
        f"{call}-{condition}-{int(duration_s)}s",
        condition,
        CALLS[call],
        duration_s,
        seed=seed,
        codec=codec,
    )


def long_stereo_spec(duration_s: float = 3600.0, seed: int = 0) -> ItemSpec:
    """The generated 1-hour stereo call (2 parties) of the stereo speed benchmark."""
    return ItemSpec(
        f"tts2-long-stereo-{int(duration_s)}s", "long-stereo", CALLS["tts2"], duration_s, seed=seed
    )


def long_mono_spec(duration_s: float = 3600.0, seed: int = 0) -> ItemSpec:
    """A generated long mono telephone call (2 parties, mu-law 8 kHz)."""
    return ItemSpec(
        f"tts2-long-telephony-{int(duration_s)}s",
        "long-telephony",
        CALLS["tts2"],
        duration_s,
        seed=seed,
        codec="ulaw",
    )


def suite_specs(suite: str, seed: int = 0) -> list[ItemSpec]:
    """The items of ``suite`` in run order.

    Parameters
    ----------
    suite
        ``"quick"`` (four calls of about 30 s: real telephone, generated telephony and stereo
        from real voices, so they exist wherever pyannote.audio does, and a 3-party
        duplicated-mono call of TTS voices) or ``"full"`` (the real recordings, 21 generated
        calls of about 75 s in four conditions, a 1-hour stereo call and a 1-hour telephone
        call).
    seed
        Mixed into every generated item's seed; 0 gives the published numbers.
    """
    real = [ItemSpec("sample", "real-telephone", real_uri="sample")]
    dev = [r.uri for r in sources.evaldata_recordings()]
    if suite == "quick":
        return [
            *real,
            _generated("real2", "telephony", 30, seed),
            _generated("real2", "stereo", 30, seed),
            _generated("tts3", "dupmono", 30, seed),
        ]
    if suite != "full":
        raise ValueError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
    generated = [
        _generated(call, condition, 75, seed)
        for condition in _CONDITIONS
        for call in (_DUPMONO_CALLS if condition == "dupmono" else CALLS)
    ]
    return [
        *real,
        *[ItemSpec(uri, "real-meeting", real_uri=uri) for uri in dev],
        *generated,
        long_stereo_spec(3600.0, seed),
        long_mono_spec(3600.0, seed),
    ]
