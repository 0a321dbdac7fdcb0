from django.urls import path

from forum import views

app_name = "forum"

urlpatterns = [
    path("questions/", views.question_list, name="question-list"),
    path("questions/ask/", views.question_ask, name="question-ask"),
    path("questions/<int:pk>/", views.question_redirect, name="question-redirect"),
    path("questions/<int:pk>/answer/", views.answer_create, name="answer-create"),
    path("questions/<int:pk>/reply/", views.reply_create, name="reply-create"),
    path("questions/<int:pk>/edit/", views.question_edit, name="question-edit"),
    path("questions/<int:pk>/follow/", views.question_follow, name="question-follow"),
    path(
        "questions/<int:pk>/duplicate/",
        views.question_duplicate_mark,
        name="question-duplicate",
    ),
    path(
        "questions/<int:pk>/duplicate/undo/",
        views.question_duplicate_unmark,
        name="question-duplicate-undo",
    ),
    path("answers/<int:pk>/edit/", views.answer_edit, name="answer-edit"),
    path("answers/<int:pk>/accept/", views.answer_accept, name="answer-accept"),
    path("answers/<int:pk>/thank/", views.answer_thank, name="answer-thank"),
    path("replies/<int:pk>/edit/", views.reply_edit, name="reply-edit"),
    path(
        "questions/<int:pk>/delete/",
        views.post_delete,
        {"kind": "question"},
        name="question-delete",
    ),
    path("answers/<int:pk>/delete/", views.post_delete, {"kind": "answer"}, name="answer-delete"),
    path("replies/<int:pk>/delete/", views.post_delete, {"kind": "reply"}, name="reply-delete"),
    path(
        "questions/<int:pk>/answers/<int:post_pk>/",
        views.post_fragment,
        {"kind": "answer"},
        name="answer-fragment",
    ),
    path(
        "questions/<int:pk>/replies/<int:post_pk>/",
        views.post_fragment,
        {"kind": "reply"},
        name="reply-fragment",
    ),
    path("search/", views.search, name="search"),
    path("moderation/questions/<int:pk>/lock/", views.question_lock, name="question-lock"),
    path("questions/similar/", views.question_similar, name="question-similar"),
    # Last: the slug would otherwise swallow the action paths above.
    path("questions/<int:pk>/<str:slug>/", views.question_detail, name="question-detail"),
    path("categories/<slug:slug>/", views.category_detail, name="category-detail"),
    path("tags/<str:slug>/", views.tag_detail, name="tag-detail"),
]
