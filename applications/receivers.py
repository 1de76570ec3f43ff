from programmes.models import Course

from .services import waitlist_offer_next


def offer_freed_place(sender, *, course_id: int, **kwargs) -> None:
    """A place on a course freed up: the first on its waiting list is given it."""
    waitlist_offer_next(course=Course.objects.get(pk=course_id))
