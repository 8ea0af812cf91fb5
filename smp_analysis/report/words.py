"""How numbers and lists are written in reviewer text, the same way in every chapter.

Percentages to one decimal place, counts with thousands separators, p-values to two or three
places, ordinals, lists joined with "and", and plurals spelled out.

>>> count(12345), percent(5.8234), percent(-0.04), signed(0.0424)
('12,345', '5.8%', '0.0%', '+4.2%')
>>> ordinal(4), ordinal(11), ordinal(22), ordinal(13)
('4th', '11th', '22nd', '13th')
>>> join(["a", "b", "c"]), plural(1, "finding"), plural(3, "month")
('a, b and c', '1 finding', '3 months')
"""

from __future__ import annotations


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count(n: int) -> str:
    return f"{int(n):,}"


def percent(x: float) -> str:
    value = round(x, 1)
    return f"{0.0 if value == 0 else value:.1f}%"


def signed(x: float) -> str:
    """A proportion as a signed percentage: 0.0424 -> '+4.2%'."""
    return f"{100 * x:+.1f}%"


def p_value(p: float) -> str:
    """Example:

    >>> p_value(0.0001), p_value(0.0342), p_value(0.41)
    ('p < 0.001', 'p = 0.034', 'p = 0.41')
    """
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """'1 month', '2 months', '1,204 offences'; irregular plurals given explicitly.

    >>> plural(2, "appendix", "appendices")
    '2 appendices'
    """
    word = singular if n == 1 else (plural_form or singular + "s")
    return f"{count(n)} {word}"


def capitalise(text: str) -> str:
    """Upper-case the first character only.

    >>> capitalise("net of recording, ...")
    'Net of recording, ...'
    """
    return text[:1].upper() + text[1:]


def vs_expected(value: float) -> str:
    """Example:

    >>> vs_expected(12.34), vs_expected(-3.0), vs_expected(0.01)
    ('12.3% above', '3.0% below', 'in line with')
    """
    if round(value, 1) == 0:
        return "in line with"
    return f"{percent(abs(value))} {'above' if value > 0 else 'below'}"


def change_sentence(subject: str, result, *, noun: str = "offences") -> str:
    """One change between periods (a :class:`~smp_analysis.methods.change.ChangeResult`).

    >>> from smp_analysis.methods.change import compare_counts
    >>> change_sentence("Total recorded crime", compare_counts(9358, 8845))
    'Total recorded crime rose by 5.8% (513 more offences), from 8,845 to 9,358.'
    """
    if result.change == 0:
        return f"{subject} did not change ({count(result.current)} {noun} in both periods)."
    direction = "rose" if result.change > 0 else "fell"
    more = "more" if result.change > 0 else "fewer"
    if result.percent_change != result.percent_change:  # NaN: nothing before
        return f"{subject} {direction} from none to {count(result.current)} {noun}."
    return (f"{subject} {direction} by {percent(abs(result.percent_change))} "
            f"({count(abs(result.change))} {more} {noun}), from {count(result.previous)} to "
            f"{count(result.current)}.")


def chance_sentence(result) -> str:
    """Whether a change is more than year-to-year chance variation would produce."""
    if result.change == 0:
        return ""
    if result.significant:
        return (f"This change is larger than chance variation alone would be expected to "
                f"produce ({p_value(result.p_value)}).")
    return (f"A change of this size could arise from chance variation alone "
            f"({p_value(result.p_value)}), so it should not be read as a real shift.")
