"""The project's URLs: the polls, the admin, a login page and the static files."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

urlpatterns = [
    path("polls/", include("polls.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="polls/login.html"), name="login"),
    # Static files from the apps' static/ folders: fine for this example, as a
    # proxy or hyperdjango's mount_static would serve them in production.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]
