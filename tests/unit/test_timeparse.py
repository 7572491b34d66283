"""bot.timeparse: watch party local times (DST gap and overlap), episode ranges and reminder offsets."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput, UserError
from bot.timeparse import (
    MAX_AHEAD,
    MAX_AHEAD_YEARS,
    MAX_REMINDERS,
    format_offsets,
    parse_episodes,
    parse_local,
    parse_reminders,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MINUS = "\u2212"  # the messages write negative UTC offsets with a real minus sign


def refusal(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The message of the InvalidInput that `call(*args, **kwargs)` raises."""
    with pytest.raises(InvalidInput) as info:
        call(*args, **kwargs)
    assert isinstance(info.value, UserError)
    return info.value.message


# -- local times -----------------------------------------------------------------------------------------------
def test_plain_time_is_converted_to_utc_without_a_note() -> None:
    when = parse_local("2026-11-28 20:00", "America/New_York", NOW)
    assert when.utc == datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # EST, UTC-5
    assert when.note == ""


@pytest.mark.parametrize("text", ["2026-11-28T20:00", "  2026-11-28 20:00  ", "2026-11-28 20:00\t"])
def test_t_separator_and_surrounding_spaces_are_accepted(text: str) -> None:
    assert parse_local(text, "UTC", NOW).utc == datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


def test_single_digit_hour_is_accepted() -> None:
    assert parse_local("2026-11-28 8:05", "UTC", NOW).utc == datetime(2026, 11, 28, 8, 5, tzinfo=UTC)


def test_dst_gap_is_refused_naming_the_skipped_hour() -> None:
    message = refusal(parse_local, "2026-03-08 02:30", "America/New_York", NOW)
    assert message.startswith("`start`: ")
    assert "02:30 does not exist on 08 March 2026 in America/New_York" in message
    assert "the clocks jump from 02:00 straight to 03:00" in message
    assert f"UTC{MINUS}5 → UTC{MINUS}4" in message
    assert "Pick a time before 02:00 or from 03:00 on." in message


@pytest.mark.parametrize("text", ["2026-03-08 02:00", "2026-03-08 02:59"])
def test_whole_gap_is_refused(text: str) -> None:
    assert "does not exist" in refusal(parse_local, text, "America/New_York", NOW)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-08 01:59", datetime(2026, 3, 8, 6, 59, tzinfo=UTC)),  # last EST minute
        ("2026-03-08 03:00", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # first EDT minute
    ],
)
def test_times_beside_the_gap_are_accepted(text: str, utc: datetime) -> None:
    when = parse_local(text, "America/New_York", NOW)
    assert when.utc == utc and when.note == ""


def test_half_hour_dst_gap_names_both_offsets() -> None:
    # Lord Howe Island moves its clocks by 30 minutes.
    message = refusal(parse_local, "2026-10-04 02:15", "Australia/Lord_Howe", NOW)
    assert "from 02:00 straight to 02:30" in message
    assert "UTC+10:30 → UTC+11" in message


def test_dst_overlap_takes_the_first_and_explains() -> None:
    when = parse_local("2026-11-01 01:30", "America/New_York", NOW)
    assert when.utc == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST (06:30 UTC)
    assert "01:30 happens twice on 01 November 2026 in America/New_York" in when.note
    assert "the clocks go back an hour" in when.note
    assert f"I used the first one, UTC{MINUS}4." in when.note


def test_southern_hemisphere_overlap_takes_the_first() -> None:
    when = parse_local("2026-04-05 02:30", "Australia/Sydney", NOW)
    assert when.utc == datetime(2026, 4, 4, 15, 30, tzinfo=UTC)  # AEDT, UTC+11
    assert "UTC+11" in when.note


@pytest.mark.parametrize(
    "text", ["2026-03-08 02:30", "2026-11-01 01:30", "2026-03-29 02:30", "2026-10-25 02:30", "2026-07-01 12:00"]
)
def test_seoul_has_no_dst(text: str) -> None:
    when = parse_local(text, "Asia/Seoul", NOW)
    local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    assert when.utc == (local - timedelta(hours=9)).replace(tzinfo=UTC)
    assert when.note == ""


@pytest.mark.parametrize("text", ["2026-11-28", "28/11/2026 20:00", "2026-11-28 20:00:00", "", "9", "someday 9pm"])
def test_unreadable_time_gives_examples_with_a_date_ahead(text: str) -> None:
    message = refusal(parse_local, text, "UTC", NOW)
    assert message.startswith("`start`: ") and "`tomorrow 9pm`" in message and "`in 2 hours`" in message
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    assert f"`{tomorrow} 20:00`" in message  # a real example date, never one in the past


# Natural times, read in the server's zone. NOW_SEOUL is a Tuesday, 12:00 in Seoul.
NOW_SEOUL = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("tomorrow 9pm", "2026-12-02 21:00"),
        ("9pm tomorrow", "2026-12-02 21:00"),
        ("tomorrow at 9:30 pm", "2026-12-02 21:30"),
        ("tonight 20:00", "2026-12-01 20:00"),
        ("9pm", "2026-12-01 21:00"),
        ("11am", "2026-12-02 11:00"),  # already past today: the next 11 am
        ("sat 21:00", "2026-12-05 21:00"),
        ("Saturday 9pm", "2026-12-05 21:00"),
        ("tue 13:00", "2026-12-01 13:00"),  # today, still ahead
        ("tue 11:00", "2026-12-08 11:00"),  # today's has passed: next week's
        ("next tue 13:00", "2026-12-08 13:00"),
        ("in 2 hours", "2026-12-01 14:00"),
        ("in 90 min", "2026-12-01 13:30"),
        ("in 3 days", "2026-12-04 12:00"),
        ("2027-01-07 9pm", "2027-01-07 21:00"),
        ("2027-01-07 21h", "2027-01-07 21:00"),
        ("2027-01-07 noon", "2027-01-07 12:00"),
        ("2027-01-07 21:00", "2027-01-07 21:00"),
    ],
)
def test_natural_times_are_read_in_the_servers_zone(text: str, local: str) -> None:
    when = parse_local(text, "Asia/Seoul", NOW_SEOUL)
    expected = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Seoul")).astimezone(UTC)
    assert when.utc == expected, text


@pytest.mark.parametrize("text", ["13pm", "25:00", "9:75pm", "0am", "in 0 hours now", "next", "yesterday 9pm"])
def test_natural_times_refuse_what_is_not_a_time(text: str) -> None:
    assert refusal(parse_local, text, "Asia/Seoul", NOW_SEOUL).startswith("`start`: ")


def test_natural_times_keep_the_dst_rules() -> None:
    # 2027-03-14 is the spring-forward day in New York: 02:30 does not exist, whatever way it is typed.
    before = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # a Wednesday
    assert "does not exist" in refusal(parse_local, "sun 2:30am", "America/New_York", before)
    assert "happens twice" in parse_local("2027-11-07 1:30am", "America/New_York", before).note


@pytest.mark.parametrize(("text", "reason"), [("2026-02-30 10:00", "day"), ("2026-11-28 24:00", "hour")])
def test_impossible_date_or_time_is_refused(text: str, reason: str) -> None:
    message = refusal(parse_local, text, "UTC", NOW)
    assert "is not a real date and time" in message and reason in message


def test_past_time_is_refused_and_now_counts_as_past() -> None:
    assert "is in the past" in refusal(parse_local, "2025-12-31 23:59", "UTC", NOW)
    assert "is in the past" in refusal(parse_local, "2026-01-01 00:00", "UTC", NOW)
    assert parse_local("2026-01-01 00:01", "UTC", NOW).utc == NOW + timedelta(minutes=1)


def test_refusals_name_the_given_option() -> None:
    assert refusal(parse_local, "soon", "UTC", NOW, option="new_start").startswith("`new_start`: ")
    assert refusal(parse_local, "2026-03-08 02:30", "America/New_York", NOW, "new_start").startswith("`new_start`: ")


def test_mentions_are_not_echoed() -> None:
    message = refusal(parse_local, "@everyone 20:00", "UTC", NOW)
    assert "@everyone" not in message


@pytest.mark.parametrize(
    ("text", "zone", "reason"),
    [
        ("9999-12-31 23:30", "America/New_York", "is too far ahead"),
        ("9999-12-31 23:59", "UTC", "is too far ahead"),
        ("9999-12-31 23:59", "Pacific/Kiritimati", "is too far ahead"),
        ("0001-01-01 00:30", "Asia/Tokyo", "is in the past"),
        ("0001-01-01 00:00", "America/New_York", "is in the past"),
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_refused_not_crashed(text: str, zone: str, reason: str) -> None:
    # Both fit the `start` option (at most 40 characters); the UTC instant is outside datetime's range.
    message = refusal(parse_local, text, zone, NOW)
    assert message.startswith(f"`start`: {text} in {zone} {reason}")


def test_a_start_more_than_five_years_ahead_is_refused_saying_the_limit() -> None:
    assert MAX_AHEAD_YEARS == 5
    message = refusal(parse_local, "2031-01-02 00:00", "Asia/Seoul", NOW, option="new_start")
    assert message == (
        "`new_start`: 2031-01-02 00:00 in Asia/Seoul is too far ahead; a watch party starts at most 5 years "
        "from now (by 2031-01-01 09:00 there)."
    )
    assert parse_local("2031-01-01 08:59", "Asia/Seoul", NOW).utc == NOW + MAX_AHEAD - timedelta(minutes=1)
    assert parse_local("2031-01-01 09:00", "Asia/Seoul", NOW).utc == NOW + MAX_AHEAD
    assert "too far ahead" in refusal(parse_local, "2031-01-01 09:01", "Asia/Seoul", NOW)


def test_the_far_past_names_no_timestamp_it_cannot_compute() -> None:
    message = refusal(parse_local, "0001-01-01 00:00", "UTC", NOW)
    assert message == "`start`: 0001-01-01 00:00 in UTC is in the past; give a time in the future."


# Zones with a DST gap and overlap, one with a 30-minute shift, one whose DST is "negative" in tzdata (Dublin),
# and some with no DST at all.
DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago"]
ZONES = [*DST_ZONES, "Europe/Dublin", "Asia/Seoul", "Asia/Kolkata", "UTC"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wall_clock_instants(naive: datetime, zone: zoneinfo.ZoneInfo) -> list[datetime]:
    """Every UTC instant (to the minute) whose local time in `zone` reads `naive`, earliest first."""
    around = naive.replace(tzinfo=UTC)
    offsets = {(around + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-48, 49)}
    found = set()
    for offset in offsets:
        assert offset is not None
        candidate = around - offset
        if candidate.astimezone(zone).replace(tzinfo=None) == naive:
            found.add(candidate)
    return sorted(found)


@functools.cache
def transitions(zone_name: str) -> list[tuple[datetime, timedelta]]:
    """(UTC instant of each offset change in 2024–2031, offset just before it), found by scanning days."""
    zone = zoneinfo.ZoneInfo(zone_name)
    found = []
    day = datetime(2024, 1, 1, tzinfo=UTC)
    while day.year < 2032:
        low, high = day, day + timedelta(days=1)
        before = low.astimezone(zone).utcoffset()
        if high.astimezone(zone).utcoffset() != before:
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            assert before is not None
            found.append((high, before))
        day += timedelta(days=1)
    return found


@st.composite
def near_a_transition(draw: st.DrawFn) -> tuple[str, datetime]:
    zone_name = draw(st.sampled_from(DST_ZONES))
    instant, before = draw(st.sampled_from(transitions(zone_name)))
    local = (instant + before).replace(tzinfo=None, second=0, microsecond=0)
    return zone_name, local + timedelta(minutes=draw(st.integers(-90, 90)))


anywhere = st.tuples(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(near_a_transition(), anywhere))
@example(("America/New_York", datetime(2026, 3, 8, 2, 30)))
@example(("America/New_York", datetime(2026, 11, 1, 1, 30)))
def test_local_time_matches_the_wall_clock(case: tuple[str, datetime]) -> None:
    zone_name, naive = case
    instants = wall_clock_instants(naive, zoneinfo.ZoneInfo(zone_name))
    text = naive.strftime("%Y-%m-%d %H:%M")
    now = datetime(naive.year - 1, 1, 1, tzinfo=UTC)  # in the past, and within the five years a party may be ahead
    event("gap" if not instants else "overlap" if len(instants) > 1 else "plain")
    if not instants:  # the clocks skip this time
        message = refusal(parse_local, text, zone_name, now)
        assert f"{naive:%H:%M} does not exist on {naive:%d %B %Y} in {zone_name}" in message
        return
    when = parse_local(text, zone_name, now)
    assert when.utc == instants[0]
    if len(instants) == 1:
        assert when.note == ""
    else:  # the clocks show this time twice: the first is used, and the reply says so
        assert len(instants) == 2
        assert f"{naive:%H:%M} happens twice on {naive:%d %B %Y} in {zone_name}" in when.note


ALL_ZONES = sorted(zoneinfo.available_timezones())


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    st.sampled_from(ALL_ZONES),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
)
@example(datetime(9999, 12, 31, 23, 59), "America/New_York", NOW)
@example(datetime(1, 1, 1, 0, 0), "Asia/Tokyo", NOW)
@example(datetime(9999, 12, 31, 23, 59), "Etc/GMT+12", NOW)
@example(datetime(1, 1, 1, 0, 0), "Etc/GMT-14", NOW)
def test_any_calendar_date_in_any_zone_is_a_time_in_the_window_or_a_refusal(
    naive: datetime, zone_name: str, now: datetime
) -> None:
    text = f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d} {naive.hour:02d}:{naive.minute:02d}"
    try:
        when = parse_local(text, zone_name, now)
    except InvalidInput as exc:
        assert exc.message.startswith("`start`: ")
        return
    assert now < when.utc <= now + MAX_AHEAD


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(ZONES))
@example("2026-03-08 02:30", "America/New_York")
def test_local_time_raises_only_invalid_input(text: str, zone_name: str) -> None:
    try:
        parse_local(text, zone_name, NOW)
    except InvalidInput as exc:
        assert exc.message.startswith("`start`: ")


# -- episode ranges --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [("5", (5, 5)), ("5-6", (5, 6)), ("5–6", (5, 6)), (" 5 - 6 ", (5, 6)), ("1", (1, 1)), ("16", (16, 16))],
)
def test_episode_or_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_episodes(text, 16, "Queen of Tears") == expected


def test_reversed_range_is_refused_with_the_right_order() -> None:
    message = refusal(parse_episodes, "6-5", 16, "Queen of Tears")
    assert message == "`episodes`: a range goes from low to high, like `5-6`."


@pytest.mark.parametrize("text", ["0", "17", "15-17", "0-2"])
def test_out_of_range_names_the_drama_and_its_episodes(text: str) -> None:
    message = refusal(parse_episodes, text, 16, "Queen of Tears")
    assert message.startswith("`episodes`: Queen of Tears has episodes 1–16; ")
    assert message.endswith("is outside that.")


def test_at_most_eight_episodes() -> None:
    assert parse_episodes("1-8", 16, "Queen of Tears") == (1, 8)
    assert refusal(parse_episodes, "1-9", 16, "Queen of Tears") == "`episodes`: at most 8 episodes in one watch party."


@pytest.mark.parametrize("text", ["", "five", "5-", "-5", "5-6-7", "5,6", "12345", "5 6"])
def test_unreadable_episodes_say_the_forms(text: str) -> None:
    message = refusal(parse_episodes, text, 16, "Queen of Tears", option="episode")
    assert message.startswith("`episode`: ")
    assert "is not an episode or a range like `5` or `5-6`." in message


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=20), st.from_regex(r"\s*\d{1,5}\s*([-–]\s*\d{1,5})?\s*", fullmatch=True)),
    st.integers(min_value=0, max_value=9999),
)
@example("1-9", 16)
@example("0", 16)
def test_episodes_raise_only_user_errors_and_stay_in_range(text: str, count: int) -> None:
    try:
        first, last = parse_episodes(text, count, "Drama")
    except UserError as exc:
        assert isinstance(exc, InvalidInput)
        assert exc.message.startswith("`episodes`: ")
    else:
        assert 1 <= first <= last <= count
        assert last - first < 8
        assert [int(n) for n in re.findall(r"\d+", text)] in ([first], [first, last])


# -- reminders -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d,1h,10m", (1440, 60, 10)),
        ("10m,1d,1h", (1440, 60, 10)),  # largest first, whatever the order typed
        (" 1D , 1H ", (1440, 60)),
        ("2 h", (120,)),
        ("1w", (10080,)),
        ("4w", (40320,)),  # 28 days: the limit itself is allowed
        ("60m,1h", (60,)),  # the same offset twice counts once
        ("1m,2m,3m,4m,5m", (5, 4, 3, 2, 1)),
    ],
)
def test_reminders(text: str, expected: tuple[int, ...]) -> None:
    assert parse_reminders(text) == expected


@pytest.mark.parametrize("text", ["none", "None", " off ", "0"])
def test_no_reminders(text: str) -> None:
    assert parse_reminders(text) == ()


@pytest.mark.parametrize(
    ("text", "shown"),
    [("1x", "1x"), ("1d,soon", "soon"), ("0m", "0m"), ("-5m", r"\-5m"), ("1.5h", "1.5h"), ("h", "h")],
)
def test_bad_offset_is_named_with_the_forms_allowed(text: str, shown: str) -> None:
    message = refusal(parse_reminders, text)
    assert message == (f"`reminders`: {shown} is not an offset; use a list like `1d,1h,10m` (m, h, d or w), or `none`.")


@pytest.mark.parametrize("text", ["", "1d,", "1d,,1h", ","])
def test_empty_item_is_called_an_empty_item(text: str) -> None:
    assert refusal(parse_reminders, text).startswith("`reminders`: an empty item is not an offset")


def test_reminders_go_at_most_28_days_ahead() -> None:
    assert refusal(parse_reminders, "29d") == "`reminders`: reminders go at most 28 days ahead."
    assert refusal(parse_reminders, "40321m") == "`reminders`: reminders go at most 28 days ahead."


def test_at_most_five_reminders() -> None:
    assert refusal(parse_reminders, "1m,2m,3m,4m,5m,6m") == f"`reminders`: at most {MAX_REMINDERS} reminders."


def test_reminder_refusals_name_the_given_option() -> None:
    assert refusal(parse_reminders, "soon", option="value").startswith("`value`: ")
    assert refusal(parse_reminders, "6w", "value").startswith("`value`: ")


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        ((), "none"),
        ((1440, 60, 10), "1d,1h,10m"),
        ((40320,), "4w"),
        ((10080, 1440, 90, 60), "1w,1d,90m,1h"),  # the largest unit that divides evenly
        ((2880, 120), "2d,2h"),
    ],
)
def test_format_offsets(minutes: tuple[int, ...], text: str) -> None:
    assert format_offsets(minutes) == text


offsets = st.sets(st.integers(min_value=1, max_value=40320), max_size=MAX_REMINDERS).map(
    lambda s: tuple(sorted(s, reverse=True))
)
item = st.tuples(st.integers(min_value=1, max_value=40), st.sampled_from("mhdwMHDW"), st.sampled_from(["", " "]))
typed_reminders = st.lists(item, min_size=1, max_size=7).map(lambda xs: ",".join(f"{n}{sp}{u}" for n, u, sp in xs))


@given(offsets)
def test_parse_reads_back_what_format_writes(minutes: tuple[int, ...]) -> None:
    assert parse_reminders(format_offsets(minutes)) == minutes


@settings(max_examples=300)
@given(st.one_of(typed_reminders, st.text(max_size=60), st.sampled_from(["none", "off", "0", "NONE"])))
@example("1d,1h,10m")
@example("0m")
@example("4w,29d")
def test_format_of_parsed_reminders_round_trips(text: str) -> None:
    # 60 characters: the longest value the reminders options accept.
    try:
        minutes = parse_reminders(text)
    except InvalidInput as exc:
        assert exc.message.startswith("`reminders`: ")
        return
    assert minutes == tuple(sorted(set(minutes), reverse=True))
    assert len(minutes) <= MAX_REMINDERS and all(1 <= m <= 40320 for m in minutes)
    shown = format_offsets(minutes)
    assert parse_reminders(shown) == minutes
    assert format_offsets(parse_reminders(shown)) == shown
