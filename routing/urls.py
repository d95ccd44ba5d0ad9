from django.urls import path

from routing import api

# Wired under /api/v1/ by config/urls.py (namespace "api").
api_urlpatterns = [
    path("routing/next/", api.RoutingNextApi.as_view(), name="routing-next"),
    path("routing/presence/", api.RoutingPresenceApi.as_view(), name="routing-presence"),
]
