"""Recording conditions: how a generated call is turned into the file a system reads.

- ``clean16k``: mono 16 kHz PCM.
- ``telephony``: band-limited to 300-3400 Hz, 8 kHz, noise at 10-20 dB SNR, mu-law or GSM 6.10.
- ``stereo``: the rep's track on one channel, everyone else on the other, each side leaking into
  the other 10-30 dB down and a few milliseconds late (echo and crosstalk).
- ``dupmono``: one mono mix copied to both channels (identical or near-identical).
- ``noise-clean`` and ``noise-<kind>-<snr>dB`` (the ``noise`` suite): a recording through its
  line (see `write_noisy`), then white, pink, babble or mains-hum noise at an exact SNR.

None of these move speech in time (filters are zero-phase, resampling is delay-compensated),
so the conversation's reference stays exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from scipy import signal

from benchmarks.data.conversation import Conversation

__all__ = [
    "CONDITIONS",
    "NOISES",
    "noise_condition",
    "parse_noise",
    "write_condition",
    "write_noisy",
]

CONDITIONS = ("clean16k", "telephony", "stereo", "dupmono")
NOISES = ("white", "pink", "babble", "hum")
_BABBLE_TALKERS = 6
_PEAK = 0.7
_CODECS = {"ulaw": "ULAW", "gsm": "GSM610"}


def write_condition(
    conversation: Conversation,
    condition: str,
    path: Path,
    rng: np.random.Generator,
    codec: str | None = None,
) -> dict:
    """Render ``conversation`` in ``condition`` to the WAV file ``path``.

    ``codec`` picks the telephony codec (``"ulaw"`` or ``"gsm"``; drawn when ``None``).

    Returns
    -------
    dict
        What was drawn: ``channels``, ``sample_rate`` and per condition ``snr_db``/``codec``,
        ``rep_channel``/``bleed_db``/``delay_ms`` or ``identical``.
    """
    writers = {
        "clean16k": _clean,
        "telephony": _telephony,
        "stereo": _stereo,
        "dupmono": _dupmono,
    }
    if condition not in writers:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if condition == "telephony":
        return _telephony(conversation, path, rng, codec)
    return writers[condition](conversation, path, rng)


def _peak_normalised(audio: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) or 1.0
    return (audio * (_PEAK / peak)).astype(np.float32)


def _noise(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise tilted towards low frequencies (room and line hiss)."""
    white = rng.standard_normal(n_samples).astype(np.float32)
    tilted = signal.lfilter([1.0], [1.0, -0.9], white).astype(np.float32)
    return tilted / (float(np.sqrt(np.mean(tilted.astype(np.float64) ** 2))) or 1.0)


def _speech_power(audio: np.ndarray, conversation: Conversation, sample_rate: int) -> float:
    parts = [
        audio[int(s.start_s * sample_rate) : int(s.end_s * sample_rate)]
        for s in conversation.reference
    ]
    joined = np.concatenate(parts) if parts else audio
    return float(np.mean(joined.astype(np.float64) ** 2)) or 1e-10


def _clean(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    sf.write(path, _peak_normalised(conversation.mix()), conversation.sample_rate, "PCM_16")
    return {"channels": 1, "sample_rate": conversation.sample_rate}


def _telephony(
    conversation: Conversation, path: Path, rng: np.random.Generator, codec: str | None = None
) -> dict:
    rate = 8000
    sos = signal.butter(4, [300, 3400], btype="bandpass", fs=conversation.sample_rate, output="sos")
    band = signal.sosfiltfilt(sos, conversation.mix()).astype(np.float32)
    narrow = soxr.resample(band, conversation.sample_rate, rate).astype(np.float32)
    snr_db = float(rng.uniform(10.0, 20.0))
    noise_power = _speech_power(narrow, conversation, rate) / 10 ** (snr_db / 10)
    noisy = narrow + np.sqrt(noise_power) * _noise(len(narrow), rng)
    drawn = "ulaw" if rng.random() < 0.5 else "gsm"
    codec = codec or drawn
    if codec not in _CODECS:
        raise ValueError(f"unknown telephony codec {codec!r}; known: {', '.join(_CODECS)}")
    subtype = _CODECS[codec]
    sf.write(path, _peak_normalised(noisy), rate, subtype)
    return {"channels": 1, "sample_rate": rate, "snr_db": round(snr_db, 1), "codec": codec}


def _delayed(track: np.ndarray, delay_samples: int) -> np.ndarray:
    out = np.zeros_like(track)
    out[delay_samples:] = track[: len(track) - delay_samples]
    return out


def _stereo(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    rate = conversation.sample_rate
    n = int(round(conversation.duration_s * rate))
    rep_ids = [p.party_id for p in conversation.parties if p.is_rep]
    rep = np.zeros(n, dtype=np.float32)
    others = np.zeros(n, dtype=np.float32)
    for party_id, track in conversation.tracks.items():
        (rep if party_id in rep_ids else others)[:] += track[:n]
    rep_channel = int(rng.integers(2))
    bleed_db = float(rng.uniform(10.0, 30.0))
    delay_ms = float(rng.uniform(2.0, 25.0))
    leak = 10 ** (-bleed_db / 20)
    delay = int(round(delay_ms * rate / 1000))
    rep_side = rep + leak * _delayed(others, delay)
    other_side = others + leak * _delayed(rep, delay)
    floor = 10 ** (-65 / 20)
    channels = [rep_side, other_side] if rep_channel == 0 else [other_side, rep_side]
    stacked = np.stack([c + floor * _noise(n, rng) for c in channels], axis=1)
    sf.write(path, _peak_normalised(stacked), rate, "PCM_16")
    return {
        "channels": 2,
        "sample_rate": rate,
        "rep_channel": rep_channel,
        "bleed_db": round(bleed_db, 1),
        "delay_ms": round(delay_ms, 1),
    }


def _dupmono(conversation: Conversation, path: Path, rng: np.random.Generator) -> dict:
    mono = _peak_normalised(conversation.mix())
    identical = bool(rng.random() < 0.5)
    if identical:
        other = mono
    else:  # a second converter path: slightly lower gain and its own dither
        other = mono * 10 ** (-0.3 / 20) + 10 ** (-80 / 20) * _noise(len(mono), rng)
    sf.write(path, np.stack([mono, other], axis=1), conversation.sample_rate, "PCM_16")
    return {"channels": 2, "sample_rate": conversation.sample_rate, "identical": identical}


def noise_condition(kind: str | None, snr_db: float | None = None) -> str:
    """The condition name of a noise-suite item: ``noise-clean`` or ``noise-pink-14dB``."""
    return "noise-clean" if kind is None else f"noise-{kind}-{snr_db:g}dB"


def parse_noise(condition: str) -> tuple[str | None, float | None]:
    """``(kind, snr_db)`` of a `noise_condition` name (``(None, None)`` for ``noise-clean``)."""
    if condition == "noise-clean":
        return None, None
    prefix, kind, snr = condition.split("-")
    if prefix != "noise" or kind not in NOISES or not snr.endswith("dB"):
        raise ValueError(f"not a noise condition: {condition!r}")
    return kind, float(snr[:-2])


def noise_signal(
    kind: str,
    n_samples: int,
    rate: int,
    rng: np.random.Generator,
    talkers: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Unit-power noise of ``kind`` (float32, ``n_samples`` at ``rate``).

    - ``white``: flat spectrum (line hiss).
    - ``pink``: power falling 3 dB per octave (room, fan, traffic).
    - ``babble``: six talkers at once, each a random sequence of the ``talkers`` clips (real
      speech at ``rate``, none of it from the voices of the call itself).
    - ``hum``: mains at 50 or 60 Hz with harmonics up to 1 kHz (odd ones stronger, as from
      a ground loop or an unshielded line), its level slowly wavering.
    """
    if kind == "white":
        noise = rng.standard_normal(n_samples)
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n_samples))
        bins = np.arange(len(spectrum), dtype=np.float64)
        bins[0] = 1.0
        noise = np.fft.irfft(spectrum / np.sqrt(bins), n_samples)
    elif kind == "babble":
        if not talkers:
            raise ValueError("babble needs real speech clips")
        noise = np.zeros(n_samples)
        for _ in range(_BABBLE_TALKERS):
            stream: list[np.ndarray] = [np.zeros(int(rng.integers(0, rate)))]
            while sum(len(c) for c in stream) < n_samples:
                clip = talkers[int(rng.integers(len(talkers)))]
                stream += [clip / (np.sqrt(np.mean(clip**2)) or 1.0), np.zeros(rate // 5)]
            noise += np.concatenate(stream)[:n_samples]
    elif kind == "hum":
        t = np.arange(n_samples) / rate
        mains = 50.0 if rng.random() < 0.5 else 60.0
        noise = np.zeros(n_samples)
        for harmonic in range(1, int(1000 // mains) + 1):
            level = (1.0 if harmonic % 2 else 0.3) / harmonic
            noise += level * np.sin(2 * np.pi * mains * harmonic * t + rng.uniform(0, 2 * np.pi))
        noise *= 1.0 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t)
    else:
        raise ValueError(f"unknown noise {kind!r}; known: {', '.join(NOISES)}")
    power = float(np.mean(noise**2)) or 1.0
    return (noise / np.sqrt(power)).astype(np.float32)


def write_noisy(
    audio: np.ndarray,
    speech: list[tuple[float, float]],
    path: Path,
    rng: np.random.Generator,
    *,
    codec: str | None,
    band_limit: bool,
    kind: str | None,
    snr_db: float | None,
    talkers: list[np.ndarray] | None = None,
) -> dict:
    """One noise-suite file: ``audio`` (16 kHz mono) through a line, plus noise, to ``path``.

    Parameters
    ----------
    speech
        The reference's speech spans (seconds): the SNR is the speech power over them (the
        active speech level, as `telephony` uses) against the noise power.
    codec
        ``"ulaw"`` or ``"gsm"``: an 8 kHz telephone file; ``None``: 16 kHz PCM.
    band_limit
        Filter to 300-3400 Hz first (a generated call; a real telephone recording already
        went through its line).
    kind, snr_db
        The noise (see `noise_signal`) and its level; ``None`` writes the clean line.
    talkers
        Real speech clips at 16 kHz for babble.
    """
    rate = 16000 if codec is None else 8000
    line = audio.astype(np.float64)
    if band_limit:
        sos = signal.butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
        line = signal.sosfiltfilt(sos, line)
    if rate != 16000:
        line = soxr.resample(line, 16000, rate)
        talkers = [soxr.resample(t, 16000, rate) for t in talkers or []]
    parts = [line[int(s * rate) : int(e * rate)] for s, e in speech]
    speech_power = float(np.mean(np.concatenate(parts) ** 2)) if parts else 1e-10
    params: dict = {"channels": 1, "sample_rate": rate, "codec": codec or "pcm16"}
    if kind is not None and snr_db is not None:
        noise = noise_signal(kind, len(line), rate, rng, talkers)
        line = line + np.sqrt(speech_power / 10 ** (snr_db / 10)) * noise
        params.update(noise=kind, snr_db=snr_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_16" if codec is None else _CODECS[codec]
    sf.write(path, _peak_normalised(line.astype(np.float32)), rate, subtype)
    return params
