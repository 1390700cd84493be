import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENV_READ = re.compile(r"env_(?:str|bool|int|float|list|choice)\(\s*\"([A-Z0-9_]+)\"")


def settings_variables():
    names = set()
    for path in (BASE_DIR / "config").glob("*settings.py"):
        names |= set(ENV_READ.findall(path.read_text()))
    return names


def test_every_environment_variable_is_in_env_example():
    example = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    missing = settings_variables() - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_the_readme_opens_with_the_two_commands():
    readme = (BASE_DIR / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:]]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_the_required_variables_are_in_the_readme():
    readme = (BASE_DIR / "README.md").read_text()
    for name in (
        "SECRET_KEY",
        "SUPPRESSION_HASH_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "SITE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "DEFAULT_FROM_EMAIL",
        "EMAIL_URL",
    ):
        assert f"`{name}`" in readme, name
