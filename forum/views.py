import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import user_is_verified_doctor
from attachments import selectors as attachment_selectors
from attachments.forms import ACCEPT as ATTACHMENTS_ACCEPT
from core import memberpage
from core.forms import apply_errors
from core.pagecache import PLACEHOLDER, visitor_page
from core.ratelimit import RateLimited, rate_limit_client
from core.refusals import refusal_status, refusal_text
from duty import selectors as duty_selectors
from forum import listcache, membercache, selectors, services, similar
from forum import search as forum_search
from forum.forms import (
    AnswerForm,
    DuplicateForm,
    ListFilterForm,
    QuestionAskForm,
    QuestionForm,
    ReplyCreateForm,
    ReplyForm,
)
from forum.models import Answer, Category, Question, Reply, Tag
from mdt import selectors as mdt_selectors

QUESTIONS_PER_PAGE = 20
SEARCH_RESULTS_PER_PAGE = 20


def _can_write(user) -> bool:
    return user.is_authenticated and not user.is_suspended


def _question_context(request, question, page, **extra) -> dict:
    """What the question page and its live fragments need to show ``page`` to this reader."""
    user = request.user
    is_open = question.is_published and not question.is_locked
    if "answer_form" not in extra:  # answer_create passes its refused form
        can_answer = _can_write(user) and is_open and user_is_verified_doctor(user)
        extra["answer_form"] = AnswerForm() if can_answer else None
    if "duplicate_form" not in extra:  # question_duplicate_mark passes its refused form
        extra["duplicate_form"] = DuplicateForm() if _can_mark_duplicate(user, question) else None
    return {
        "question": question,
        "qpage": page,
        "attachments": attachment_selectors.for_question_page(question=question, viewer=user),
        # Fragments pass duty=None: the panel is part of the page, not of a post.
        "duty": extra.pop("duty")
        if "duty" in extra
        else duty_selectors.for_question_page(
            question=question,
            viewer=user,
            is_asker=user.is_authenticated and user.pk == question.author_id,
        ),
        # Not in fragments either: the link is part of the page.
        "can_open_mdt_case": "mdt" not in extra
        and question.is_published
        and user.is_authenticated
        and user.pk != question.author_id
        and user_is_verified_doctor(user),
        # The MDT's consensus, and the asker's consent requests; fragments pass mdt=None.
        "mdt": extra.pop("mdt")
        if "mdt" in extra
        else mdt_selectors.for_question_page(
            question=question,
            viewer=user,
            is_asker=user.is_authenticated and user.pk == question.author_id,
        ),
        "reply_form": ReplyCreateForm(),
        "attachments_accept": ATTACHMENTS_ACCEPT,
        # Closed for a suspended member, who is told so instead of losing a draft.
        "can_write": _can_write(user),
        "can_reply": _can_write(user) and is_open,
        "is_asker": user.is_authenticated and user.pk == question.author_id,
        **_duplicate_context(user, question),
        **extra,
    }


def _can_mark_duplicate(user, question) -> bool:
    """Whether the page offers ``user`` the "Mark as duplicate" form (the service decides)."""
    if not _can_write(user) or not question.is_published:
        return False
    if user.is_moderator:
        return True
    # Only moderators point a duplicate elsewhere; the physician's check comes last
    # and is the one the answer form has already made (no second query).
    return (
        not question.is_locked
        and question.duplicate_of_id is None
        and user_is_verified_doctor(user)
    )


def _duplicate_context(user, question) -> dict:
    """The notice at the top of a duplicate: the original, if the reader may follow it."""
    original = question.duplicate_of if question.duplicate_of_id else None
    is_moderator = user.is_authenticated and user.is_moderator
    if original is not None and not original.is_published and not is_moderator:
        original = None  # withdrawn since: the link would lead to a 404
    marker = question.duplicate_marked_by if original is not None else None
    return {
        "duplicate_original": original,
        "duplicate_marker": marker,
        "can_undo_duplicate": original is not None
        and _can_write(user)
        and (is_moderator or (marker is not None and marker.pk == user.pk)),
    }


def _question_list_page(request, *, category=None, tag=None, template="forum/question_list.html"):
    if "category" in request.GET and category is None and request.GET["category"]:
        category = get_object_or_404(Category, slug=request.GET["category"])
    if "tag" in request.GET and tag is None and request.GET["tag"]:
        tag = get_object_or_404(Tag, slug=request.GET["tag"])
    filters = SimpleLazyObject(lambda: ListFilterForm(request.GET or None))
    # Everyone but moderators sees the visitors' list, and shares its cache.
    public = selectors.sees_public_list(request.user)

    def current_page():
        options = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
        questions = selectors.question_list(
            viewer=AnonymousUser() if public else request.user,
            category=category,
            tag=tag,
            status=options.get("status", ""),
            sort=options.get("sort") or "newest",
            stage=options.get("stage", ""),
            treatment=options.get("treatment", ""),
            asker=options.get("asker", ""),
        )
        return Paginator(questions, QUESTIONS_PER_PAGE).get_page(request.GET.get("page"))

    # Lazy: when the list comes from the cache, none of this runs.
    context = {
        "page": SimpleLazyObject(current_page),
        "filters": filters,
        "category": category,
        "tag": tag,
        "categories": Category.objects.all(),
        "own_unpublished": selectors.own_unpublished_questions(request.user) if public else [],
        # Shared by visitors and members: every author as anyone may see them.
        "public_rows": public,
        "list_cache_key": listcache.key_for(request) if public else None,
        "list_cache_timeout": listcache.TIMEOUT,
    }
    return TemplateResponse(request, template, context)


@visitor_page(listcache.version, params=listcache.LIST_PARAMS)
@memberpage.member_page(listcache.version, params=listcache.LIST_PARAMS)
def question_list(request):
    return _question_list_page(request)


@visitor_page(listcache.version, params=listcache.LIST_PARAMS)
@memberpage.member_page(listcache.version, params=listcache.LIST_PARAMS)
def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    return _question_list_page(request, category=category)


@visitor_page(listcache.version, params=listcache.LIST_PARAMS)
@memberpage.member_page(listcache.version, params=listcache.LIST_PARAMS)
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    return _question_list_page(request, tag=tag)


@login_required
def question_ask(request):
    form = QuestionAskForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            question = services.question_create(author=request.user, **form.service_kwargs())
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            # Suspended, or past the rate limit: say why, and keep what was typed.
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)
        else:
            if question.is_published:
                messages.success(
                    request, _("Your question is published. Doctors will be notified.")
                )
            if form.cleaned_data["attachments"]:
                messages.info(
                    request,
                    _(
                        "Your photos are being made safe: we remove what the camera recorded "
                        "and look for names and numbers. They appear below in a moment."
                    ),
                )
            # A held question's page says it waits, and why: no second notice.
            return redirect(question)
    return render(
        request,
        "forum/question_ask.html",
        {"form": form, "tags": selectors.tag_suggestions()},
        status=status,
    )


# A patient retyping a title sees the same answer again without asking; new
# questions reach it within the minute.
SIMILAR_MAX_AGE = 60


@require_GET
def question_similar(request):
    """Published questions like the title being typed, as JSON for the ask form's script.

    Anyone may ask, as the questions are public; each client is rate limited
    (by account, or by address for visitors). Past the limit the answer is a
    429 with no results and a message the script need not show.
    """
    try:
        rate_limit_client(request=request, action="question_similar")
    except RateLimited:
        refused = JsonResponse(
            {
                "results": [],
                "error": _(
                    "Too many look-ups for similar questions. Wait a minute; "
                    "you can still post your question."
                ),
            },
            status=429,
        )
        add_never_cache_headers(refused)
        return refused
    found = similar.similar_questions(request.GET.get("title", ""))
    response = JsonResponse({"results": [similar.as_json(row) for row in found]})
    patch_cache_control(response, private=True, max_age=SIMILAR_MAX_AGE)
    return response


def question_redirect(request, pk):
    return redirect(selectors.question_get_for_viewer(pk=pk, viewer=request.user), permanent=False)


@visitor_page(listcache.version)
def question_detail(request, pk, slug):
    question = page = None
    if not request.GET and not len(get_messages(request)):
        if memberpage.eligible(request.user):
            response, question = _member_question_page(request, pk, slug)
            if response is not None:
                return response
        else:
            if memberpage.eligible_physician(request.user):
                kind = membercache.PHYSICIAN
            elif memberpage.eligible_moderator(request.user):
                kind = membercache.MODERATOR
            else:
                kind = None
            if kind is not None:
                response, question = _staff_question_page(request, pk, slug, kind)
                if response is not None:
                    return response
            if question is None:
                question, page = membercache.reader_question(request, pk)
    if question is None:
        question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    if slug != question.slug and question.slug:
        return redirect(question, permanent=True)
    if page is None:
        page = selectors.question_page(question=question, viewer=request.user)
    related = similar.related_to(question)
    return TemplateResponse(
        request,
        "forum/question_detail.html",
        _question_context(request, question, page, related=related),
    )


def _member_question_page(request, pk, slug):
    """A plain member's page from the shared one (``forum.membercache``).

    Returns (response, None), or (None, the question if it was looked up)
    for the usual way.
    """
    key, body = membercache.cached(request, pk)
    if key is None:
        return None, None
    user = request.user
    question = None
    if body is None:
        question = selectors.question_get_for_viewer(pk=pk, viewer=user)
        if not question.is_published or question.author_id == user.pk:
            return None, question
    elif body.author_id == user.pk:
        return None, None
    touched = membercache.touched_questions(request)
    if touched is not None and pk not in touched:
        found = memberpage.personal(request)  # nothing of theirs here: the plain buttons
    else:
        found = memberpage.personal(request, membercache.question_parts(pk))
    if membercache.OWN_POST in found.rows:
        return None, question
    if body is None:
        if slug != question.slug and question.slug:
            return redirect(question, permanent=True), None
        body = _shared_body(request, key, question)
    elif slug != body.slug and body.slug:
        return redirect("forum:question-detail", pk=pk, slug=body.slug, permanent=True), None
    return memberpage.fill(request, body.html, found, membercache.slots_for(body, found)), None


def _shared_body(
    request, key, question, *, keep_question=False, viewer=None, **extra
) -> membercache.Body:
    """Render and keep the page of ``question`` that its sharing readers all see.

    The answers and replies ``viewer`` sees (a visitor's if None), with
    slots for what is each reader's own; ``extra`` as ``_question_context``
    takes it.
    """
    viewer = viewer or AnonymousUser()
    page = selectors.question_page(question=question, viewer=viewer, own=False)
    related = similar.related_to(question)
    context = _question_context(request, question, page, related=related, **extra)
    body = membercache.render_body(request, context)
    if keep_question:
        body.question = question
    membercache.store(key, body)
    return body


def _staff_question_page(request, pk, slug, kind):
    """A verified physician's or a moderator's page from their ``kind``'s shared one.

    Only for a question they touched nothing of: their buttons are the plain
    ones. Their duty panel is filled in for them (two queries). Moderators'
    page shows what they all see: every post in every state, earlier
    versions. Returns as ``_member_question_page`` (``forum.membercache``).
    """
    touched = membercache.touched_questions(request)
    if touched is None or pk in touched:
        return None, None
    key, body = membercache.cached(request, pk, kind)
    if key is None:
        return None, None
    user = request.user
    if body is None:
        question = selectors.question_get_for_viewer(pk=pk, viewer=user)
        if not question.is_published or question.author_id == user.pk:
            return None, question
        if slug != question.slug and question.slug:
            return redirect(question, permanent=True), None
        duty_slot = memberpage.slot("duty")
        body = _shared_body(
            request,
            key,
            question,
            keep_question=True,
            viewer=user if kind == membercache.MODERATOR else None,
            duty=None,
            duty_slot=duty_slot,
        )
    elif body.author_id == user.pk:
        return None, None
    elif slug != body.slug and body.slug:
        return redirect("forum:question-detail", pk=pk, slug=body.slug, permanent=True), None
    found = memberpage.personal(request)
    question = body.question
    duty = duty_selectors.for_question_page(question=question, viewer=user, is_asker=False)
    panel = render_to_string(
        "duty/_question_duty.html",
        {"duty": duty, "question": question, "is_asker": False, "csrf_token": PLACEHOLDER},
    )
    extra = {**membercache.slots_for(body, found), "duty:0": panel}
    return memberpage.fill(request, body.html, found, extra), None


def _question_page_again(request, question, *, status: int, **extra):
    """The question page once more, with a refused form and what was typed in it."""
    page = selectors.question_page(question=question, viewer=request.user)
    context = _question_context(request, question, page, **extra)
    return render(request, "forum/question_detail.html", context, status=status)


@never_cache
@require_GET
def post_fragment(request, pk, kind, post_pk):
    """One new answer or reply as the question page shows it to this reader.

    The question's socket says what is new; the open page asks for it here,
    in its own session, so the asker can accept it and members can thank,
    reply and flag without a reload. The question page's visibility rules
    apply, in a fixed number of queries.
    """
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    post, page = selectors.question_post_page(
        question=question, viewer=request.user, kind=kind, pk=post_pk
    )
    context = _question_context(
        request,
        question,
        page,
        answer_form=None,
        duplicate_form=None,
        duty=None,
        mdt=None,
        **{kind: post},
    )
    return TemplateResponse(request, f"forum/question_detail.html#{kind}", context)


@login_required
@require_POST
def answer_create(request, pk):
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    form = AnswerForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            answer = services.answer_create(
                question=question, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            if not user_is_verified_doctor(request.user):
                raise  # never had the form: the 403 page says why
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)
        else:
            messages.success(request, _("Your answer is published."))
            return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")
    return _question_page_again(request, question, status=status, answer_form=form)


@login_required
@require_POST
def reply_create(request, pk):
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    form = ReplyCreateForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        answer = None
        if form.cleaned_data["answer"]:
            answer = get_object_or_404(
                Answer.objects.published(), pk=form.cleaned_data["answer"], question=question
            )
        try:
            reply = services.reply_create(
                question=question,
                author=request.user,
                body=form.cleaned_data["body"],
                answer=answer,
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            problems = error.messages
        except PermissionDenied as error:
            problems, status = [refusal_text(error)], refusal_status(error)
        else:
            return redirect(f"{question.get_absolute_url()}#reply-{reply.pk}")
    else:
        problems = [e for errors in form.errors.values() for e in errors]
    # The page again, with the reply box open on what was typed and why it was refused.
    draft = {
        "answer_id": form.cleaned_data.get("answer"),
        "body": request.POST.get("body", ""),
        "error": _("Your reply could not be posted: %(errors)s") % {"errors": " ".join(problems)},
    }
    return _question_page_again(request, question, status=status, reply_draft=draft)


@login_required
@require_POST
def question_duplicate_mark(request, pk):
    """Link a question to an answered one; a refusal shows on the page, nothing changes."""
    if not (request.user.is_moderator or user_is_verified_doctor(request.user)):
        raise PermissionDenied(_("Only verified physicians can mark a question as a duplicate."))
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    form = DuplicateForm(request.POST, host=request.get_host())
    status = 400
    if form.is_valid():
        original = Question.objects.live().filter(pk=form.cleaned_data["original"]).first()
        try:
            if original is None:
                raise ValidationError({"original": _("There is no question with this number.")})
            question = services.question_duplicate_mark(
                question=question, original=original, by=request.user
            )
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)
        else:
            messages.success(
                request,
                _("Marked as a duplicate of “%(title)s”. The asker has been told.")
                % {"title": question.duplicate_of.title},
            )
            return redirect(question)
    return _question_page_again(request, question, status=status, duplicate_form=form)


@login_required
@require_POST
def question_duplicate_unmark(request, pk):
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    try:
        services.question_duplicate_unmark(question=question, by=request.user)
    except PermissionDenied as error:
        messages.error(request, refusal_text(error))
    else:
        messages.success(request, _("The question is no longer marked as a duplicate."))
    return redirect(question)


@login_required
def question_edit(request, pk):
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    if question.author_id != request.user.pk:
        raise PermissionDenied
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.question_edit(question=question, editor=request.user, **form.service_kwargs())
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(question)
    return render(
        request, "forum/question_edit.html", {"form": form, "question": question}, status=status
    )


def _post_for_edit(request, model, pk):
    post = get_object_or_404(model.objects.live().select_related("question"), pk=pk)
    if post.author_id != request.user.pk:
        raise PermissionDenied
    return post


@login_required
def answer_edit(request, pk):
    answer = _post_for_edit(request, Answer, pk)
    form = AnswerForm(request.POST or None, initial={"body": answer.body})
    return _post_edit_page(request, form, answer, services.answer_edit, editing="answer")


@login_required
def reply_edit(request, pk):
    reply = _post_for_edit(request, Reply, pk)
    form = ReplyForm(request.POST or None, initial={"body": reply.body})
    return _post_edit_page(request, form, reply, services.reply_edit, editing="reply")


def _post_edit_page(request, form, post, edit, *, editing: str):
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            edit(**{editing: post}, editor=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            apply_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(post.get_absolute_url())
    return render(
        request,
        "forum/post_edit.html",
        {"form": form, "post": post, "question": post.question},
        status=status,
    )


@login_required
def post_delete(request, kind, pk):
    model = {"question": Question, "answer": Answer, "reply": Reply}[kind]
    post = get_object_or_404(model.objects.live(), pk=pk)
    question = post if kind == "question" else post.question
    if post.author_id != request.user.pk and not request.user.is_moderator:
        raise PermissionDenied
    if request.method == "POST":
        services.post_delete(post=post, user=request.user)
        messages.success(request, _("Deleted."))
        return redirect(
            "forum:question-list" if kind == "question" else question.get_absolute_url()
        )
    return render(
        request, "forum/post_delete.html", {"post": post, "kind": kind, "question": question}
    )


@login_required
@require_POST
def answer_accept(request, pk):
    answer = get_object_or_404(Answer.objects.published().select_related("question"), pk=pk)
    if request.POST.get("undo"):
        services.answer_unaccept(question=answer.question, user=request.user)
    else:
        services.answer_accept(answer=answer, user=request.user)
        messages.success(
            request, _("You accepted this answer. Thank you for letting others know it helped.")
        )
    return redirect(answer.get_absolute_url())


@login_required
@require_POST
def answer_thank(request, pk):
    answer = get_object_or_404(Answer.objects.published().select_related("question"), pk=pk)
    try:
        services.answer_thank(answer=answer, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(answer.get_absolute_url())


@login_required
@require_POST
def question_follow(request, pk):
    question = selectors.question_get_for_viewer(pk=pk, viewer=request.user)
    if request.POST.get("unfollow"):
        services.question_unfollow(question=question, user=request.user)
        messages.success(request, _("You no longer follow this question."))
    else:
        try:
            services.question_follow(question=question, user=request.user)
        except PermissionDenied as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, _("You follow this question and will hear of new answers."))
    return redirect(question)


def search(request):
    """Search results; everyone but moderators shares them, kept per forum version.

    The shared results are searched for as a visitor and kept with each page
    of their rows (``forum.search.cache_key``). A reader they would not show
    rightly (``sees_shared``: a moderator, a member whose own questions
    change the page) is searched for as themselves, as is everyone while
    nothing may be kept.
    """
    query = request.GET.get("q", "").strip()[:200]
    # Facet slugs as the results page links them; anything else narrows nothing.
    category = _slug_param(request.GET.get("category", ""))
    tag = _slug_param(request.GET.get("tag", ""))
    options = {"query": query, "category": category, "tag": tag}
    viewer = request.user

    def results_page(questions, count):
        paginator = Paginator(questions, SEARCH_RESULTS_PER_PAGE)
        paginator.count = count  # known: no COUNT query
        return paginator.get_page(request.GET.get("page"))

    def searched(as_viewer):
        results = selectors.question_search(viewer=as_viewer, **options)
        page = results_page(results.questions, results.count)
        questions = list(page.object_list)
        tags = selectors.search_row_tags(questions, results)
        return results, page, forum_search.result_rows(questions, tags, results.plan, as_viewer)

    page = results = rows = None
    if query:
        key = forum_search.cache_key(**options) if selectors.sees_public_list(viewer) else None
        if key is not None:
            if (results := forum_search.kept_get(key)) is not None:
                page = results_page(range(results.count), results.count)
                rows = forum_search.rows_get(key, page.number)
            if rows is None:
                results, page, rows = searched(AnonymousUser())
                results = forum_search.kept_store(key, results, page.number, rows)
        if key is None or not forum_search.sees_shared(
            viewer, results, rows, narrowed=bool(category or tag)
        ):
            results, page, rows = searched(viewer)
        page.object_list = forum_search.rows_html(rows)
    return render(
        request,
        "forum/search.html",
        {"query": query, "page": page, "results": results, "category": category, "tag": tag},
    )


def _slug_param(value: str) -> str:
    value = value.strip()[:80]
    return value if re.fullmatch(r"[-\w]+", value) else ""


@login_required
@require_POST
def question_lock(request, pk):
    """A moderator closes a question to new answers and replies, or opens it again."""
    if not request.user.is_moderator:
        raise PermissionDenied
    question = get_object_or_404(Question.objects.live(), pk=pk)
    locked = not request.POST.get("unlock")
    services.question_lock(
        question=question,
        moderator=request.user,
        locked=locked,
        reason=request.POST.get("reason", ""),
    )
    messages.success(
        request, _("The question is locked.") if locked else _("The question is open again.")
    )
    return redirect(question)
