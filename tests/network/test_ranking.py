"""The learned ranking: trained on one small simulated network, it puts the planted accounts of
another (a seed it never saw) above the ordinary ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jointwatch.errors import InvalidInputError
from jointwatch.network.engines import DuckDBEngine, EngineSettings
from jointwatch.network.laundering import LaunderingSettings, simulate_laundering
from jointwatch.network.quality import load_transactions
from jointwatch.network.ranking import RankingModel, features_of, fit, rank_accounts, train_on_folder
from jointwatch.network.schema import default_rates
from jointwatch.network.typologies import detect_all

SMALL = LaunderingSettings(people=600, instances=2, broker_netting=True, days=100)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    train, held_out = tmp_path_factory.mktemp("train"), tmp_path_factory.mktemp("held_out")
    simulate_laundering(train, LaunderingSettings(**{**SMALL.__dict__, "seed": 3}), "csv")
    simulate_laundering(held_out, LaunderingSettings(**{**SMALL.__dict__, "seed": 5, "mix": "africa",
                                                        "share_low": 0.7, "share_high": 0.85}), "csv")
    return train, held_out


@pytest.fixture(scope="module")
def model(folders: tuple[Path, Path]) -> RankingModel:
    return train_on_folder(folders[0])


def test_planted_accounts_rank_above_ordinary_ones_on_a_held_out_seed(folders: tuple[Path, Path],
                                                                     model: RankingModel) -> None:
    held_out = folders[1]
    illicit = set(json.loads((held_out / "truth.json").read_text())["illicit_accounts"])
    engine = DuckDBEngine(EngineSettings(threads=1))
    try:
        load_transactions(engine, held_out / "transactions.csv", default_rates())
        findings = detect_all(engine)
        ranked = rank_accounts(engine, model, findings, top=10_000)
    finally:
        engine.close()
    assert model.trained_on == str(folders[0]) and 0 < model.illicit < model.accounts
    order = [r.account for r in ranked]
    # the top of the list is planted
    top = order[:30]
    assert sum(1 for a in top if a in illicit) >= 28, top
    # and a planted account is above an ordinary one far more often than not (area under the ROC curve)
    positions = {a: i for i, a in enumerate(order)}
    bad = [positions[a] for a in illicit if a in positions]
    good = [positions[a] for a in order if a not in illicit]
    above = sum(1 for b in bad for g in good if b < g)
    assert above / (len(bad) * len(good)) >= 0.9
    first = ranked[0]
    assert first.rank == 1 and first.score >= ranked[-1].score and set(first.features) and first.country


def test_training_needs_labels(tmp_path: Path, folders: tuple[Path, Path]) -> None:
    rows, _ = features_of(folders[0] / "transactions.csv")
    with pytest.raises(InvalidInputError, match="both illicit and other accounts"):
        fit(rows, set(), "nothing labelled")
    (tmp_path / "transactions.csv").write_text((folders[0] / "transactions.csv").read_text())
    (tmp_path / "truth.json").write_text("[1, 2]")
    with pytest.raises(InvalidInputError, match="illicit_accounts"):
        train_on_folder(tmp_path)
    with pytest.raises(InvalidInputError, match="truth.json"):
        train_on_folder(tmp_path / "missing")


def test_the_report_lists_the_ranking(tmp_path: Path, folders: tuple[Path, Path], model: RankingModel) -> None:
    from jointwatch.network.analysis import analyse  # noqa: PLC0415
    from jointwatch.network.designate import designated_accounts  # noqa: PLC0415
    from jointwatch.network.report import write_report  # noqa: PLC0415

    held_out = folders[1]
    engine = DuckDBEngine(EngineSettings(threads=1))
    try:
        analysis = analyse(held_out / "transactions.csv", designated_accounts([str(held_out / "designated.txt")]),
                           engine=engine, typologies=True)
        analysis.ranking = rank_accounts(engine, model, analysis.typologies, top=5)
        analysis.ranking_model = model.trained_on
    finally:
        engine.close()
    write_report(analysis, tmp_path / "report.html", tmp_path / "report.json")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Accounts ranked by suspicion" in page and f"trained on {model.trained_on}" in page
    assert f"<td>{analysis.ranking[0].account}</td>" in page
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [r["account"] for r in data["ranking"]] == [r.account for r in analysis.ranking]


def test_rank_command(folders: tuple[Path, Path]) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from jointwatch.cli import app  # noqa: PLC0415

    train, held_out = folders
    runner = CliRunner()
    result = runner.invoke(app, ["network", "rank", str(held_out / "transactions.csv"), "--train-on", str(train),
                                 "--top", "5", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["trained_on"] == str(train) and [r["rank"] for r in data["ranking"]] == [1, 2, 3, 4, 5]
    illicit = set(json.loads((held_out / "truth.json").read_text())["illicit_accounts"])
    assert all(r["account"] in illicit for r in data["ranking"])
    # the model also ranks accounts no rule names (a fan-in's donors): each says which rules flag it, if any
    assert all(isinstance(r["rules"], list) and set(r["features"]) for r in data["ranking"])
    bad = runner.invoke(app, ["network", "rank", str(held_out / "transactions.csv"), "--train-on",
                              str(held_out / "nowhere")])
    assert bad.exit_code == InvalidInputError.exit_code and "truth.json" in bad.output
