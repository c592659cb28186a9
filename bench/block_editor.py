"""The block editor's server-side cost per save and per open, against the baseline every
gallery campaign already pays: mrml rendering the gallery's own MJML.

For each of the 10 gallery templates, in one process: mrml on the original MJML (baseline),
MJML → design (open), design validation + nh3 (save, step 1), design → MJML → HTML (save, step 2).

    python -m bench.block_editor [--rounds 20]
"""

import argparse
import statistics
import time


def _median_ms(function, argument, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function(argument)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args(argv or []).rounds

    from bench.import_contacts import setup_django

    setup_django()
    from campaigns.editor.compiler import design_to_html
    from campaigns.editor.design import design_normalise
    from campaigns.editor.importer import design_from_mjml
    from campaigns.gallery import gallery, render_mjml, template_source

    totals = {"baseline mrml": 0.0, "open (import)": 0.0, "validate": 0.0, "compile": 0.0}
    for template in gallery():
        source = template_source(template.slug)
        design = design_from_mjml(source)
        totals["baseline mrml"] += _median_ms(render_mjml, source, rounds)
        totals["open (import)"] += _median_ms(design_from_mjml, source, rounds)
        totals["validate"] += _median_ms(design_normalise, design, rounds)
        totals["compile"] += _median_ms(design_to_html, design, rounds)
    count = len(gallery())
    baseline = totals["baseline mrml"] / count
    for name, total in totals.items():
        mean = total / count
        print(f"{name:>15}: {mean:7.2f} ms per template ({mean / baseline:4.2f}× baseline)")


if __name__ == "__main__":
    main()
