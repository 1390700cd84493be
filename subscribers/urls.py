app_name = "subscribers"

urlpatterns: list = [
    # Signup, confirmation, unsubscribe and preference centre (issue #3).
]
