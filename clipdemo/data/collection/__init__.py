"""Collections: 10k-1M images embedded once, stored in clip-retrieval's layout, mapped and searched.

One module per stage:
- sources: what to embed (a folder tree, a zip, a parquet/CSV list of paths with optional captions);
- layout: the on-disk format (img_emb/, text_emb/, metadata/ shards + a JSON sidecar), read and written;
- embed: the local engine (batched, resumable, progress bar); ray_engine: the same on Ray Data;
- store: an opened collection (vectors, metadata, images) and exact search over all of it;
- mapping: the 2D projection, computed once and cached beside the collection, with its quality;
- atlas: export for Apple's Embedding Atlas; service: plain functions the UI, CLI and API call.
"""
