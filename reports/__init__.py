"""HTML divergence reports, computed from records only (see ../shared/DESIGN.md, "the star": reports never
import an adapter or a framework).

  load       read records files and directories, one file at a time: a bad file is a note, not a stop
  signature  what identifies a case (for merging shards) and a divergence (for cards and diffs)
  merge      de-duplicate shard records, keeping the worst outcome per case; `python -m reports merge`
  diff       new, fixed and changed divergences between two runs; `python -m reports diff`
  outcomes   the conformance matrix: surface x property, counts per outcome
  cards      one card per distinct divergence, with its minimal case and the window diagram (windows), its stable
             anchor and what the page's filters match it by
  upstream   a card as the Markdown of an upstream bug report (the card's "copy as upstream issue" button)
  support    the support matrix: per surface, dtype x device (x mode): works, refuses, diverges or not run
  heatmap    the cross-framework alignment matrix as (kernel, stride) heat maps per intent
  build      all of it into one self-contained HTML page; `python -m reports build`
"""
