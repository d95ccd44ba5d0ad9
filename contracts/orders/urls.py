"""Addresses of the back-office: the API (wired under /api/v1/ by config/urls.py, namespace
"api") and the pages under /backoffice/ (namespace "backoffice")."""

from django.urls import path

from contracts.orders import api, views

api_urlpatterns = [
    path("orders/", api.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<str:reference>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path(
        "orders/<str:reference>/transition/",
        api.OrderTransitionApi.as_view(),
        name="order-transition",
    ),
    path("orders/<str:reference>/notes/", api.OrderNoteCreateApi.as_view(), name="order-notes"),
    path("loyalty/", api.LoyaltyListApi.as_view(), name="loyalty-list"),
    path("loyalty/<id:pk>/", api.LoyaltyDetailApi.as_view(), name="loyalty-detail"),
    path("loyalty/<id:pk>/actions/", api.LoyaltyActionCreateApi.as_view(), name="loyalty-actions"),
    path("loyalty/<id:pk>/close/", api.LoyaltyCloseApi.as_view(), name="loyalty-close"),
]

app_name = "backoffice"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<str:reference>/", views.order_detail, name="order-detail"),
    path("orders/<str:reference>/transition/", views.order_transition, name="order-transition"),
    path("orders/<str:reference>/assign/", views.order_assign, name="order-assign"),
    path("orders/<str:reference>/notes/", views.order_note, name="order-note"),
    path("orders/<str:reference>/documents/", views.order_document, name="order-document"),
    path(
        "orders/<str:reference>/documents/<id:document_id>/",
        views.order_document_download,
        name="order-document-download",
    ),
    path("loyalty/<id:pk>/", views.loyalty_detail, name="loyalty-detail"),
    path("loyalty/<id:pk>/actions/", views.loyalty_action, name="loyalty-action"),
    path("loyalty/<id:pk>/close/", views.loyalty_close, name="loyalty-close"),
]
