"""Logging in and out, and the account page: hyperdjango.auth's users, with sessions."""

from hyperdjango import Response, forms
from hyperdjango.auth import authenticate, login, login_required, logout
from hyperdjango.templates import render

from .main import app


class LoginForm(forms.Form):
    """A username and a password that ``authenticate`` accepts (Django's AuthenticationForm)."""

    username = forms.CharField(max_length=150)
    password = forms.CharField(strip=False, widget=forms.PasswordInput())  # spaces are part of it

    def __init__(self, request, data=None):
        super().__init__(data)
        self.request = request
        #: The user the credentials name, once the form is valid.
        self.user = None

    async def clean(self):
        """Asks the authentication backends; one message for a wrong username or password,
        so the form does not tell which usernames exist."""
        data = self.cleaned_data
        if "username" in data and "password" in data:
            self.user = await authenticate(self.request, username=data["username"], password=data["password"])
            if self.user is None:
                raise forms.ValidationError(
                    "Please enter a correct username and password. Note that both fields may be case-sensitive.",
                    code="invalid_login",
                )
        return data


def visitor(request) -> dict:
    """What every template knows of the visitor, as Django's auth context processor gives it:
    ``user`` (a user or AnonymousUser) and ``logged_in``."""
    return {"user": request.user, "logged_in": request.user.is_authenticated}


app.templates.context_processors.append(visitor)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: ``next`` if it is a path on this site, else home
    (an address elsewhere would make the login page an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return app.url_for("home")


@app.route("/accounts/login/", methods=["GET", "POST"], name="login")
async def login_page(request):
    """The login form. ``@login_required`` sends browsers here with ``?next=`` the page they
    asked for, where a successful login takes them."""
    form = LoginForm(request, await request.form() if request.method == "POST" else None)
    if request.method == "POST" and await form.is_valid():
        await login(request, form.user)  # a new session key, and a new CSRF secret
        return Response.redirect(safe_next(request.query.get("next")), status=303)
    return await render(request, "shop/login.html", {"form": form}, status=400 if form.is_bound else 200)


@app.post("/accounts/logout/", name="logout")
async def logout_view(request):
    """Logs out (a POST, so that another site cannot log you out with a link or an image)."""
    await logout(request)
    return Response.redirect(app.url_for("home"), status=303)


@app.get("/account", name="account")
@login_required
async def account(request):
    """The logged-in user's page; others are sent to the login form first."""
    can_add = await request.user.has_perm("shop.add_product")
    return await render(request, "shop/account.html", {"can_add": can_add})
