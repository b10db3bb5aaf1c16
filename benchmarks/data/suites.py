"""The suites: ``quick`` (a sanity pass, CI), ``full`` (the real measurement) and ``noise``
(the same real calls clean and under line noise)."""

from __future__ import annotations

from benchmarks.data import sources
from benchmarks.data.conditions import NOISES, noise_condition
from benchmarks.data.items import ItemSpec

__all__ = ["CALLS", "SUITES", "long_mono_spec", "long_stereo_spec", "noise_specs", "suite_specs"]

SUITES = ("quick", "full", "noise")
NOISE_SNRS_DB = (10.0, 14.0, 20.0)
# AMI excerpts in the noise suite: 2 and 3 voices (trn01 and trn02 are nearly silent)
_NOISE_MEETINGS = ("dev00", "trn00", "trn06")

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


def noise_specs(seed: int = 0) -> list[ItemSpec]:
    """The ``noise`` suite: each call clean (``noise-clean``) and with each noise at each SNR.

    The calls: pyannote's real telephone sample as mu-law and GSM 6.10 at 8 kHz and as 16 kHz
    PCM; a generated 60 s call of the sample's two real voices through a 300-3400 Hz line,
    mu-law; three AMI excerpts at 16 kHz, `_NOISE_MEETINGS` (where ``../shared/evaldata`` is
    present).
    """
    bases = [
        *(
            ItemSpec(f"sample-{c or '16k'}", "", real_uri="sample", codec=c)
            for c in ("ulaw", "gsm", None)
        ),
        ItemSpec("real2-ulaw-60s", "", CALLS["real2"], 60.0, codec="ulaw"),
        *(
            ItemSpec(r.uri, "", real_uri=r.uri)
            for r in sources.evaldata_recordings()
            if r.uri in _NOISE_MEETINGS
        ),
    ]
    conditions = [noise_condition(None)] + [
        noise_condition(kind, snr) for kind in NOISES for snr in NOISE_SNRS_DB
    ]
    return [
        ItemSpec(
            f"{base.item_id}@{condition}",
            condition,
            base.voices,
            base.duration_s,
            real_uri=base.real_uri,
            seed=seed,
            codec=base.codec,
        )
        for condition in conditions
        for base in bases
    ]


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
    if suite == "noise":
        return noise_specs(seed)
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
