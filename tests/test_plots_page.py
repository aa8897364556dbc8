"""The offline plots page: .dvc/config names the template, and the template holds the pinned libraries, unchanged,
with their licenses beside it. (tests/test_pipeline.py opens the page DVC writes from it in Chromium.)"""
import configparser

from fmnist.review import plots_page
from helpers import ROOT


def template_text() -> str:
    return (ROOT / plots_page.TEMPLATE).read_text(encoding="utf8")


def test_dvc_config_names_the_template():
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    assert (ROOT / ".dvc" / config["plots"]["html_template"]).resolve() == (ROOT / plots_page.TEMPLATE).resolve()


def test_the_template_inlines_the_pinned_libraries_unchanged():
    inlined = plots_page.inlined_scripts(template_text())
    assert list(inlined) == [package.name for package in plots_page.PACKAGES]  # vega-embed after what it needs
    for package in plots_page.PACKAGES:
        assert plots_page.sha256(inlined[package.name]) == package.sha256, \
            f"{package.name} differs from the pinned release"


def test_the_template_loads_nothing_from_the_network():
    template = template_text()
    page = template
    for library in plots_page.inlined_scripts(template).values():
        page = page.replace(library.decode(), "")
    assert "{plot_divs}" in page
    assert "{scripts}" not in page  # where DVC would put its CDN links
    assert "src=" not in page and "http" not in page  # nothing loaded from elsewhere


def test_each_library_has_its_license_beside_it():
    for package in plots_page.PACKAGES:
        text = (ROOT / package.license_file).read_text()
        assert "University of Washington Interactive Data Lab" in text and "Redistribution and use" in text
