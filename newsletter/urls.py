app_name = "newsletter"

urlpatterns: list = [
    # Public archive: filled in by the authoring and archive work (issue #4).
]
