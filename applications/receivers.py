import logging

logger = logging.getLogger(__name__)


def offer_freed_place(sender, *, course_id: int, **kwargs) -> None:
    """A place on a course freed up (and is recorded as a FreedPlace): queue the job that offers
    it to the waiting list. If the broker is away, the periodic sweep offers it instead."""
    from .tasks import offer_freed_places

    try:
        offer_freed_places.delay(course_id)
    except Exception:  # the freed place is recorded; the sweep will find it
        logger.exception("Could not queue the offer of a freed place on course %s", course_id)
