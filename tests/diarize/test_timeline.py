from diarize.segments import Segment
from diarize.timeline import build_timeline, make_exclusive


def test_timeline_is_sorted_integer_ms_inside_audio():
    segments = [Segment(2.0004, 3.5, "b"), Segment(-0.1, 1.2345, "a"), Segment(9.5, 12.0, "a")]
    timeline = build_timeline(segments, duration_s=10.0, precise=True)
    assert timeline["precise"] is True
    speech = timeline["speechSegments"]
    assert speech == [
        {"fromTime": 0, "toTime": 1234, "partyIds": ["a"]},
        {"fromTime": 2000, "toTime": 3500, "partyIds": ["b"]},
        {"fromTime": 9500, "toTime": 10000, "partyIds": ["a"]},
    ]


def test_exclusive_timeline_has_no_overlap_and_keeps_the_interruption():
    segments = [
        Segment(0.0, 10.0, "rep"),
        Segment(4.0, 5.0, "customer"),
        Segment(9.0, 12.0, "customer"),
    ]
    pieces = make_exclusive(segments)
    assert [(p.start_s, p.end_s, p.speaker) for p in pieces] == [
        (0.0, 4.0, "rep"),
        (4.0, 5.0, "customer"),
        (5.0, 9.0, "rep"),
        (9.0, 12.0, "customer"),
    ]
    timeline = build_timeline(segments, 12.0, precise=False, exclusive=True)["speechSegments"]
    for a, b in zip(timeline, timeline[1:], strict=False):
        assert a["toTime"] <= b["fromTime"]


def test_zero_length_segments_are_dropped():
    timeline = build_timeline([Segment(1.0, 1.0004, "a")], 5.0, precise=False)
    assert timeline["speechSegments"] == []
