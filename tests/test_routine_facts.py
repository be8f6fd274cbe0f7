"""Every fact of hands-on pumping (README.md, Sources) is in the built-in routine: one per test."""

from __future__ import annotations

import re

import pytest

from voiceguide.mix.plan import PlanSettings, fill_sides
from voiceguide.routine.load import Routine, load_builtin


@pytest.fixture(scope="module")
def routine() -> Routine:
    return load_builtin("hands-on-pumping")


def spoken(routine: Routine) -> str:
    """Everything the program says or shows for this routine, lower-case, one line."""
    parts = [
        routine.title,
        routine.description,
        *routine.intro_first_run,
        *routine.intro,
        *routine.closing,
    ]
    for step in routine.steps:
        parts += [step.title, step.say, *(c.text for c in step.cues)]
    return " ".join(fill_sides(p, PlanSettings().first_side) for p in parts).lower()


def step_text(routine: Routine, index: int) -> str:
    step = routine.steps[index]
    return " ".join([step.title, step.say, *(c.text for c in step.cues)]).lower()


def has(text: str, *patterns: str) -> bool:
    return all(re.search(p, text) for p in patterns)


# What it is
def test_combines_massage_pumping_and_hand_expression(routine: Routine) -> None:
    assert has(spoken(routine), r"breast massage, electric pumping and hand expression")


def test_hands_help_the_pump_remove_milk(routine: Routine) -> None:
    assert has(spoken(routine), r"hands help the pump remove milk")


def test_draining_more_fully_raises_supply(routine: Routine) -> None:
    assert has(
        spoken(routine), r"draining the breast more fully", r"raises your overall milk supply"
    )


def test_more_fat_rich_hindmilk_helps_baby_grow(routine: Routine) -> None:
    assert has(spoken(routine), r"fat-rich hindmilk that helps (a|your) baby grow")


def test_meant_for_parents_who_struggle_preterm_nicu(routine: Routine) -> None:
    assert has(
        spoken(routine),
        r"struggle to express enough milk",
        r"premature babies",
        r"neonatal intensive care",
    )


def test_study_48_percent(routine: Routine) -> None:
    assert has(spoken(routine), r"preterm babies", r"raised milk volume by about 48 percent")


# Equipment, said once before the routine starts
def test_equipment_pump(routine: Routine) -> None:
    intro = " ".join(routine.intro).lower()
    assert has(intro, r"fully electric, hospital-grade pump", r"double pumping kit")


def test_equipment_bra(routine: Routine) -> None:
    intro = " ".join(routine.intro).lower()
    assert has(intro, r"hands-free pumping bra", r"holds the flanges", r"both your hands are free")


# The routine, in order
def test_step1_massage_before_pumping(routine: Routine) -> None:
    assert has(step_text(routine, 0), r"massage both breasts before pumping")


def test_step1_small_circles_spiral_self_exam(routine: Routine) -> None:
    assert has(step_text(routine, 0), r"small circles in a spiral", r"breast self-exam")


def test_step1_outer_edges(routine: Routine) -> None:
    assert has(step_text(routine, 0), r"extra attention to the outer edges")


def test_step1_stroke_toward_nipple(routine: Routine) -> None:
    assert has(step_text(routine, 0), r"stroke from the outer edges in toward the nipple")


def test_step1_light_touch_relax_letdown(routine: Routine) -> None:
    assert has(step_text(routine, 0), r"light", r"relax", r"let-down")


def test_step1_default_2_minutes_adjustable(routine: Routine) -> None:
    duration = routine.steps[0].duration
    assert duration.default_seconds == 120 and duration.is_range


def test_step2_pump_until_flow_slows(routine: Routine) -> None:
    assert has(step_text(routine, 1), r"pump both breasts", r"until the milk flow slows")


def test_step2_5_to_7_minutes_default_6(routine: Routine) -> None:
    duration = routine.steps[1].duration
    assert (duration.min_seconds, duration.default_seconds, duration.max_seconds) == (300, 360, 420)
    assert has(step_text(routine, 1), r"5 to 7 minutes")


def test_step2_highest_comfortable_suction(routine: Routine) -> None:
    assert has(step_text(routine, 1), r"suction up to the highest level that is still comfortable")


def test_step2_must_not_hurt(routine: Routine) -> None:
    assert has(step_text(routine, 1), r"must not hurt")


def test_step3_massage_again_as_step1(routine: Routine) -> None:
    assert has(step_text(routine, 2), r"massage both breasts again, as in step 1")


def test_step4_pump_while_massaging_one_breast(routine: Routine) -> None:
    assert has(step_text(routine, 3), r"keep pumping while you massage your \{first\} breast")


def test_step4_lumpy_places_full_ducts(routine: Routine) -> None:
    assert has(step_text(routine, 3), r"feel lumpy", r"full milk ducts")


def test_step4_stroke_toward_pump_medium_pressure(routine: Routine) -> None:
    assert has(
        step_text(routine, 3),
        r"outer edge in toward the pump",
        r"medium pressure",
        r"empty the ducts",
    )


def test_step4_3_to_5_minutes_default_4(routine: Routine) -> None:
    duration = routine.steps[3].duration
    assert (duration.min_seconds, duration.default_seconds, duration.max_seconds) == (180, 240, 300)
    assert has(step_text(routine, 3), r"until the flow slows again", r"3 to 5 minutes")


def test_step5_same_for_other_breast(routine: Routine) -> None:
    text = step_text(routine, 4)
    assert has(text, r"the same for your \{second\} breast", r"keep pumping")
    assert routine.steps[4].duration == routine.steps[3].duration


def test_step6_hand_expression_into_flanges(routine: Routine) -> None:
    assert has(step_text(routine, 5), r"hand expression", r"pump flanges or a container")


def test_step6_richest_hindmilk_default_2_minutes(routine: Routine) -> None:
    assert has(step_text(routine, 5), r"richest hindmilk")
    assert routine.steps[5].duration.default_seconds == 120


def test_steps_in_order(routine: Routine) -> None:
    assert [s.id for s in routine.steps] == [
        "massage",
        "pump",
        "massage-again",
        "pump-massage-first",
        "pump-massage-second",
        "hand-express",
    ]


# Tips, at fitting moments, never all at once
def test_tip_8_times_in_24_hours(routine: Routine) -> None:
    assert has(spoken(routine), r"8 times in 24 hours", r"every 3 hours", r"supply follows demand")


def test_tip_keep_pumping_2_minutes_after_flow_stops(routine: Routine) -> None:
    assert has(
        spoken(routine),
        r"when the milk stops flowing, keep pumping for about 2 more minutes",
        r"baby is still feeding",
        r"raise your supply",
    )


def test_tip_music_helps_nicu_parents(routine: Routine) -> None:
    assert has(
        spoken(routine),
        r"listening to music has been shown to increase the amount of milk",
        r"intensive care",
    )


def test_tip_skin_to_skin(routine: Routine) -> None:
    assert has(spoken(routine), r"skin to skin", r"bonding", r"prolactin and oxytocin")


def test_tip_separated_at_birth(routine: Routine) -> None:
    assert has(
        spoken(routine),
        r"separated from your baby at birth",
        r"start expressing within the first hours after birth",
    )


def test_tips_spread_over_steps(routine: Routine) -> None:
    steps_with_tips = [s.id for s in routine.steps if s.cues]
    assert len(steps_with_tips) >= 3
    assert all(len(s.cues) <= 2 for s in routine.steps)


# Safety line, spoken on the first run
def test_safety_line(routine: Routine) -> None:
    first = " ".join(routine.intro_first_run).lower()
    assert has(
        first,
        r"not medical advice",
        r"pain, a hard red area, or fever",
        r"lactation consultant or a doctor",
    )
