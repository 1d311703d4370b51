"""The nightly against framework releases (docs/nightly.md): release channels per framework as tox envs, and the
report of a channel matrix. Nothing here imports a framework; the suite runs in a child pytest.

  channels   nightly/channels.toml: what current, previous and pre mean for each framework; pip resolution,
             the CUDA-build guard, installing
  run        `python -m nightly run ENV`: one channel: install, run the suite, write records and a manifest
  report     `python -m nightly report`: merge a channel matrix's records, diff against the previous run, update
             the history, build the HTML report (what the workflow's last job and `tox -e channels-report` run)
"""
