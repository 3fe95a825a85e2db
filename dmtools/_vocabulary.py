"""The closed lists of values of video fields and lists: categories (with their labels),
statuses, languages and sort orders. Part of :mod:`dmtools.schema`, which re-exports them."""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "LANGUAGES",
    "SORTS",
    "STATUSES",
    "category_choices",
    "category_value",
]

#: The 17 video categories (``channel`` values) of the create/edit references.
CATEGORIES: tuple[str, ...] = tuple(
    "animals auto creation fun kids lifestyle music news people "
    "school shortfilms sport tech travel tv videogames webcam".split()
)

CATEGORY_LABELS: dict[str, str] = {
    "animals": "Animals",
    "auto": "Cars",
    "creation": "Art",
    "fun": "Comedy & Entertainment",
    "kids": "Kids",
    "lifestyle": "Lifestyle & How-to",
    "music": "Music",
    "news": "News",
    "people": "Friends & family",
    "school": "Education",
    "shortfilms": "Short films",
    "sport": "Sport",
    "tech": "Tech",
    "travel": "Travel",
    "tv": "TV shows",
    "videogames": "Video games",
    "webcam": "Webcam",
}

_CATEGORY_BY_NAME: dict[str, str] = {
    **{label.casefold(): slug for slug, label in CATEGORY_LABELS.items()},
    **{slug: slug for slug in CATEGORIES},
}


def category_choices() -> str:
    """The categories as people read them: ``animals (Animals), auto (Cars), ...``."""
    return ", ".join(f"{slug} ({CATEGORY_LABELS[slug]})" for slug in CATEGORIES)


def category_value(value: str) -> str:
    """The API value of a category written as its value (``videogames``) or its label
    (``Video games``, any case, surrounding spaces ignored); anything else is returned
    unchanged, for :func:`check_value` to refuse with the list of categories.

    Example:
        >>> category_value("Video games"), category_value("auto"), category_value("Cars")
        ('videogames', 'auto', 'auto')
    """
    return _CATEGORY_BY_NAME.get(value.strip().casefold(), value)


#: Video status values.
STATUSES: tuple[str, ...] = tuple(
    "waiting processing ready published rejected deleted encoding_error".split()
)

#: ISO 639-1 language codes accepted for ``language``.
LANGUAGES: frozenset[str] = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la
    lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
    om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv
    sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)

#: Sort orders of video lists.
SORTS: tuple[str, ...] = tuple(
    "recent old visited visited-hour visited-today visited-week visited-month relevance "
    "random trending least-visited id-asc".split()
)
