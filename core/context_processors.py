from core.suspension import suspension_message


def suspension(request):
    """While the signed-in member is suspended, the notice every page shows them; no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_suspended:
        return {}
    return {"suspension_notice": suspension_message(user)}
