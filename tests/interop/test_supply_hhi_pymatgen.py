"""`trilat supply indicators --json` against an independent published HHI
table: Gaultois et al. 2013 (Chem. Mater. 25, 2911, doi:10.1021/cm400893e),
the element HHI of production that pymatgen ships as
`pymatgen/analysis/hhi_data.csv` (read from the installed package, not
imported: pymatgen's import pulls scipy and more for nothing here).

Gaultois computed from USGS data of about 2011; ours is MCS 2024 (2023
estimates). So the test asks for the same ordering, not the same numbers:
- a rank correlation over 42 elements (measured 0.78; asserted ≥ 0.7);
- the well-known cases in the same order (niobium, tungsten, rare earths,
  gallium, platinum, bismuth far above copper, gold, silver, zinc, iron,
  aluminium) in both tables;
- every element whose HHI differs by more than 1,200 points is explained by
  the years: its leading producer's share today lies outside the range
  their HHI allows for the leader then, [HHI/10⁴, √(HHI/10⁴)] (the leader's
  share s₁ satisfies s₁² ≤ HHI ≤ s₁).
docs/economic.md lists the differences.
"""
import importlib.util
import json
import pathlib
import subprocess

import pytest

# element → (USGS file code, a word of the series' type; "" = the only series)
ELEMENTS = {
    "Li": ("lithi", ""), "Be": ("beryl", ""), "Mg": ("mgmet", ""), "V": ("vanad", ""),
    "Cr": ("chrom", ""), "Mn": ("manga", ""), "Fe": ("feore", "usable"), "Co": ("cobal", ""),
    "Ni": ("nicke", ""), "Cu": ("coppe", "mine"), "Zn": ("zinc", ""), "Ga": ("galli", ""),
    "Sr": ("stron", ""), "Zr": ("zirco", ""), "Nb": ("niobi", ""), "Mo": ("molyb", ""),
    "Pd": ("plati", "palladium"), "Ag": ("silve", ""), "In": ("indiu", ""), "Sn": ("tin", ""),
    "Sb": ("antim", ""), "Ta": ("tanta", ""), "W": ("tungs", ""), "Re": ("rheni", ""),
    "Pt": ("plati", "platinum"), "Au": ("gold", ""), "Hg": ("mercu", ""), "Pb": ("lead", ""),
    "Bi": ("bismu", ""), "Te": ("tellu", ""), "Se": ("selen", ""), "Cd": ("cadmi", ""),
    "I": ("iodin", ""), "Ba": ("barit", ""), "La": ("raree", ""), "K": ("potas", ""),
    "P": ("phosp", ""), "Al": ("bauxi", "bauxite"), "He": ("heliu", ""), "Br": ("bromi", ""),
    "Ti": ("timin", "ilmenite"), "As": ("arsen", ""),
}
HIGH = ["Nb", "W", "La", "Ga", "Pt", "Bi"]
LOW = ["Cu", "Au", "Ag", "Zn", "Fe", "Al"]


def gaultois_table():
    spec = importlib.util.find_spec("pymatgen")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pymatgen not installed (pip install -r tests/interop/requirements.txt)")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "analysis" / "hhi_data.csv"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            symbol, production, reserve = line.split(",")
            table[symbol] = (float(production), float(reserve))
    return table


@pytest.fixture(scope="module")
def hhi(trilat_bin, shared_data):
    out = subprocess.run(
        [trilat_bin, "supply", "indicators", "--data", str(shared_data / "supply"), "--json"],
        capture_output=True, text=True, check=True,
    )
    doc = json.loads(out.stdout)
    ours = {}
    for element, (code, word) in ELEMENTS.items():
        series = [s for s in doc["indicators"]
                  if s["commodity"] == code and word in s["series_type"].lower()]
        assert len(series) == 1, (element, [s["series_type"] for s in series])
        production = series[0]["production"]
        ours[element] = (production["hhi"], production["top1"][1])
    return ours, gaultois_table()


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def test_rank_correlation(hhi):
    ours, theirs = hhi
    elements = sorted(ELEMENTS)
    rho = spearman([ours[e][0] for e in elements], [theirs[e][0] for e in elements])
    print(f"Spearman rank correlation, {len(elements)} elements: {rho:.3f}")
    assert rho >= 0.7, rho


def test_well_known_cases_keep_their_order(hhi):
    ours, theirs = hhi
    for high in HIGH:
        for low in LOW:
            assert theirs[high][0] > theirs[low][0], (high, low)
            assert ours[high][0] > ours[low][0], (high, low, ours[high], ours[low])


def test_large_differences_are_the_years(hhi):
    ours, theirs = hhi
    differing = []
    for element in sorted(ELEMENTS):
        hhi_ours, top1 = ours[element]
        hhi_theirs = theirs[element][0]
        if abs(hhi_ours - hhi_theirs) <= 1200:
            continue
        low, high = hhi_theirs / 10_000, (hhi_theirs / 10_000) ** 0.5
        differing.append(element)
        assert not (low <= top1 <= high), (
            f"{element}: HHI {hhi_ours:.0f} vs {hhi_theirs:.0f}, but the leader's share "
            f"{top1:.3f} is still within [{low:.3f}, {high:.3f}]: not explained by the years")
    # The differences docs/supply.md explains (if this changes, update the docs).
    assert differing == sorted(["Sb", "La", "Ga", "Be", "Mg", "Co", "Te", "V", "Ni", "Zr",
                                "Hg", "In", "Bi"]), differing
