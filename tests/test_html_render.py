"""The HTML page without a browser: structure, escaping, self-containment, plots per command."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from abtool.render import sections_for
from tests.html_reports import (
    CONTROL,
    CONTROL_SHOWN,
    IMG,
    QUOTES,
    SCRIPT,
    cached_reports,
    rendered,
)

FAIL = "#d55e00"  # the vermilion that marks failing items


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return cached_reports(lambda: tmp_path_factory.mktemp("html-logs"))[1]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return cached_reports(lambda: tmp_path_factory.mktemp("html-logs"))[2]


def page(result: Any) -> str:
    from abtool.render.html import render_html

    return render_html(result, sections_for(result.command)(result))


class Parsed(HTMLParser):
    """Start tags, their attributes and the text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def plot_keys(name: str, full: bool = False) -> list[str]:
    """The plots on a page, in order."""
    return re.findall(r'<figure class="plot" data-plot="([^"]+)"', rendered(name, full))


def test_other_formats_and_help_do_not_import_matplotlib() -> None:
    code = (
        "import sys\n"
        "from abtool.cli import app\n"
        "from abtool import sample_size_report\n"
        "from abtool.render import OutputFormat, render\n"
        "report = sample_size_report(baseline=0.12, mde_rel=0.05)\n"
        "assert render(report, OutputFormat.markdown).startswith('## abtool sample-size')\n"
        "print('matplotlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_plots_drawn_from_todays_reports(reports: dict[str, Any]) -> None:
    assert plot_keys("shadow") == [
        "histogram",
        "latency_quantiles",
        "segment_disagreement",
        "segment_disagreement",
    ]
    assert plot_keys("canary") == [
        "lift_over_time",
        "lift_per_bucket",
        "metric_lifts",
        "error_rate_over_time",
        "latency_over_time",
        "srm_over_time",
        "variant_error_rate",
        "variant_latency",
        "segment_forest",
        "segment_forest",
    ]
    assert plot_keys("interleave") == ["preference_over_time", "ctr_by_position"]
    assert plot_keys("sample_size") == ["n_against_mde", "days_against_mde"]
    assert plot_keys("sample_size_interleaving") == ["n_against_mde"]


def test_time_series_keys_add_their_plots(full: dict[str, Any]) -> None:
    assert plot_keys("shadow", full=True) == [
        "histogram",
        "ecdf",
        "latency_quantiles",
        "segment_disagreement",
        "segment_agreement",
        "segment_disagreement",
        "segment_agreement",
        "error_rate_over_time",
        "latency_over_time",
    ]
    assert plot_keys("canary", full=True)[:2] == ["lift_over_time", "lift_per_bucket"]
    assert {"error_rate_over_time", "latency_over_time", "srm_over_time"} <= set(
        plot_keys("canary", full=True)
    )
    assert plot_keys("interleave", full=True) == ["preference_over_time", "ctr_by_position"]
    assert plot_keys("sample_size", full=True)[2:] == ["power_against_units", "mde_against_days"]


def test_time_series_fixtures_match_the_reports(full: dict[str, Any]) -> None:
    """The fixtures that feed the planned plots agree with what the reports computed."""
    ecdf = full["shadow"]["stats"]["ecdf"]
    gap = abs(ecdf["ks_cdf_primary"] - ecdf["ks_cdf_shadow"])
    assert gap == pytest.approx(full["shadow"]["stats"]["ks_statistic"], abs=1e-12)
    timeline = full["interleave"]["stats"]["timeline"]
    assert timeline["delta_ab"][-1] == pytest.approx(full["interleave"]["stats"]["delta_ab"])
    plan = full["sample_size"]["stats"]
    at_plan = [
        p for u, p in zip(*plan["power_curve"].values(), strict=True) if u >= plan["n_total"]
    ]
    assert at_plan[0] >= plan["power"]


def test_page_order_verdict_checklist_plots_details_warnings(reports: dict[str, Any]) -> None:
    text = rendered("shadow")
    marks = [
        'class="verdict good"',
        "<h2>Checklist</h2>",
        "<h2>Plots</h2>",
        "<h2>Details</h2>",
        "<h2>Warnings</h2>",
    ]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)
    assert f"<title>abtool shadow-report: {reports['shadow']['verdict']}</title>" in text


def test_failing_checks_are_highlighted(reports: dict[str, Any]) -> None:
    report = reports["shadow_no_go"]
    assert report["verdict"] == "NO_GO"
    rows = [a for tag, a in Parsed(rendered("shadow_no_go")).tags if tag == "tr" and a.get("class")]
    classes = [a["class"] for a in rows]
    expected = [f"check-{c['status']}" for c in report["checks"]]
    assert classes == expected
    assert "check-fail" in classes and "check-pass" in classes


@pytest.mark.parametrize("name", ["shadow", "canary", "interleave", "gate"])
def test_hostile_values_are_text(reports: dict[str, Any], name: str) -> None:
    text = rendered(name)
    parsed = Parsed(text)
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link", "b"}
    assert not [k for _, attrs in parsed.tags for k in attrs if k.startswith("on")]
    shown = "".join(parsed.text)
    hostile = [IMG] if name == "interleave" else [SCRIPT, QUOTES, CONTROL_SHOWN]
    for value in hostile:
        assert value in shown, value
    assert CONTROL not in text and "\x07" not in text and "\x1b" not in text


def test_page_is_self_contained(reports: dict[str, Any]) -> None:
    for name in reports:
        text = rendered(name)
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        # The only URLs are XML namespace names, which nothing fetches.
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, name
        assert not re.search(r"<(script|link|img|iframe)\b", text), name
        assert len(text.encode()) < 5_000_000, name


def test_svg_ids_are_unique_and_every_reference_resolves(full: dict[str, Any]) -> None:
    pages = [rendered("shadow", full=True), rendered("canary", full=True)]
    for one in pages:
        ids = re.findall(r' id="([^"]+)"', one)
        assert len(ids) == len(set(ids)) > 0
        refs = set(re.findall(r"url\(#([^)]+)\)", one)) | set(re.findall(r'href="#([^"]+)"', one))
        assert refs and refs <= set(ids)
    assert "figure_1" not in "".join(pages)  # matplotlib's unreferenced group ids are gone


def test_rendering_is_deterministic_and_leaves_matplotlib_settings_alone(
    reports: dict[str, Any],
) -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    from tests.html_reports import _CACHE

    assert page(_CACHE["results"]["canary"]) == rendered("canary")
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_gate_page_holds_every_gate(reports: dict[str, Any]) -> None:
    report = reports["gate"]
    text = rendered("gate")
    parsed = Parsed(text)
    sections = [a["id"] for tag, a in parsed.tags if tag == "section" and a.get("id")]
    assert sections == [f"gate-{i}" for i in range(1, len(report["gates"]) + 1)]
    verdicts = [a["data-verdict"] for tag, a in parsed.tags if "data-verdict" in a]
    assert verdicts == [report["verdict"], *(g["verdict"] for g in report["gates"])]
    assert "no such file" in "".join(parsed.text)
    assert text.count('data-plot="histogram"') == 1  # from the shadow gate


class TestPrimitives:
    """Each primitive: nothing without data, vermilion exactly where something fails."""

    def test_no_data_no_plot(self) -> None:
        from abtool.render.html import plots

        assert (
            plots.histogram_overlay([0, 1], {"a": [None]}, key="k", title="t", xlabel="x") is None
        )
        assert plots.histogram_overlay([], {}, key="k", title="t", xlabel="x") is None
        assert plots.ecdf_pair({"a": ([], [])}, gap=None, key="k", title="t", xlabel="x") is None
        assert plots.band_line([], [], [], [], key="k", title="t", xlabel="x", ylabel="y") is None
        assert plots.bucket_series(["a"], {"s": [None]}, key="k", title="t", ylabel="y") is None
        assert plots.ranked_bars([], [], key="k", title="t", xlabel="x") is None
        assert plots.forest(["a"], [None], [None], [None], key="k", title="t", xlabel="x") is None
        assert plots.line_series([1], {"s": [float("nan")]}, key="k", title="t", xlabel="x",
                                 ylabel="y") is None  # fmt: skip
        assert plots.grouped_bars([], {}, key="k", title="t", ylabel="y") is None

    def test_histogram_needs_one_more_edge_than_counts(self) -> None:
        from abtool.render.html.plots import histogram_overlay

        with pytest.raises(ValueError, match="3 counts for 3 edges"):
            histogram_overlay([0, 1, 2], {"a": [1, 2, 3]}, key="k", title="t", xlabel="x")

    def test_failing_items_and_flagged_buckets_are_vermilion(self) -> None:
        from abtool.render.html import plots

        def forest(failing: list[bool]) -> str:
            made = plots.forest(["a", "b"], [0.1, -0.2], [0.0, -0.3], [0.2, -0.1],
                                failing=failing, key="k", title="t", xlabel="x")  # fmt: skip
            assert made is not None
            return made.svg.lower()

        assert FAIL in forest([False, True])
        assert FAIL not in forest([False, False])
        bars = plots.ranked_bars(["a", "b"], [1, 2], failing=[True, False], key="k", title="t",
                                 xlabel="x")  # fmt: skip
        calm = plots.ranked_bars(["a", "b"], [1, 2], key="k", title="t", xlabel="x")
        assert bars is not None and calm is not None
        assert FAIL in bars.svg.lower() and FAIL not in calm.svg.lower()
        flagged = plots.bucket_series(["2025-04-28T00:00:00", "2025-04-28T01:00:00"],
                                      {"e": [0.1, 0.5]}, kind="bar", highlight=1, key="k",
                                      title="t", ylabel="y")  # fmt: skip
        assert flagged is not None and FAIL in flagged.svg.lower()

    def test_ks_gap_is_labelled(self) -> None:
        from abtool.render.html.plots import KsGap, ecdf_pair

        made = ecdf_pair(
            {"a": ([0, 1], [0, 1]), "b": ([0, 2], [0, 1])},
            gap=KsGap(1.0, 1.0, 0.5, "KS D = 0.5"),
            key="ecdf",
            title="t",
            xlabel="x",
        )
        assert made is not None
        assert "KS D = 0.5" in made.svg and FAIL in made.svg.lower()

    def test_labels_show_control_characters_and_dollars(self) -> None:
        from abtool.render.html.plots import ranked_bars

        made = ranked_bars(["$x^2$", "a\x00b"], [1, 2], key="k", title="t", xlabel="x")
        assert made is not None
        assert "$x^2$" in made.svg and "a\\x00b" in made.svg and "\x00" not in made.svg


def test_text_helpers() -> None:
    from abtool.render.html.text import esc, short, visible

    assert visible("a\x07b\x7f\tc\n") == "a\\x07b\\x7f\tc\n"
    assert esc("<a href='x'>\"&") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;"
    assert short("x" * 50, 10) == "x" * 9 + "…"


def test_writes_one_file_per_page(reports: dict[str, Any], tmp_path: Path) -> None:
    """Pages stay small: a gate page with three reports is well under the 5 MB budget."""
    sizes = {}
    for name in reports:
        path = tmp_path / f"{name}.html"
        path.write_text(rendered(name), encoding="utf-8")
        sizes[name] = path.stat().st_size
    assert max(sizes.values()) < 1_000_000, sizes
