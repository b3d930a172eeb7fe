"""The HTML report rendered by a real headless Chromium: the page loads, every figure decodes, one row per run."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from groklab import api
from tests.conftest import TINY, groklab_cli

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHECK = """<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const result = {images: images.length, loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
                  rows: document.querySelectorAll('#summary tbody tr').length, title: document.title,
                  geometry: [...document.querySelectorAll('h2')].some(h => h.textContent.startsWith('Across papers'))};
  const out = document.createElement('pre'); out.id = 'groklab-check'; out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                    reason="Debian's chromium is not installed (make test installs it when run as root)")
def test_html_report_renders_in_headless_chromium(tmp_path):
    assert CHROMIUM, "chromium must be installed under CI (make browser)"
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    for seed in (0, 1):  # seed 1 records the geometry probe: the cross-paper section appears
        probes = ["eval.probes=[representation]"] if seed else []
        groklab_cli("run", "--config", str(tmp_path / "tiny.yaml"), "--seed", str(seed), "--quiet",
                    "--out", str(tmp_path / "runs" / f"s{seed}"), *probes, check=True)
    _, page = api.report(tmp_path / "runs", tmp_path / "report")
    probe = tmp_path / "report" / "probe.html"
    probe.write_text(page.read_text().replace("</body>", CHECK + "</body>"))
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="groklab-check">(.*?)</pre>', dom.stdout)
    assert found, f"the page did not finish loading:\n{dom.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result["title"] == "groklab status report"
    assert result["rows"] == 2  # one summary row per run
    assert result["images"] == 6 and result["loaded"] == 6  # curves + detail per run, probes, the comparison grid
    assert result["geometry"]
    shot = tmp_path / "report" / "screenshot.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
