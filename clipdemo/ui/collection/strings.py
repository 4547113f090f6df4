"""Every user-visible string of the map tab's collection view, in English and Simplified Chinese."""

STRINGS = {
    "en": {
        "coll.title": "Collections: your own dataset, 10k–1M images",
        "coll.intro": "A collection is a folder of embeddings prepared once with `python -m clipdemo embed IMAGES "
                      "--out DIR` (clip-retrieval's layout) and offered here with `python app.py --collection DIR`. "
                      "Every image is one point; the map is UMAP, computed once and cached beside the collection. "
                      "Hover a point for its image, click it for its nearest images, drag a box or lasso to select.",
        "coll.name": "Collection",
        "coll.view": "Draw as",
        "coll.view_auto": "auto",
        "coll.view_points": "points",
        "coll.view_density": "density + points",
        "coll.open": "Open the collection",
        "coll.query": "Search the whole collection (text → image)",
        "coll.query_image": "…or an image (image → image)",
        "coll.k": "Results",
        "coll.search": "Search",
        "coll.plot": "Collection map",
        "coll.hits": "Nearest images",
        "coll.hits_table": "Ranked by cosine similarity (exact search over every vector)",
        "coll.select_hint": "Drag a box or lasso over the map (toolbar) to select points.",
        "coll.selected": "**{n}** points selected.",
        "coll.export_sel": "Export the selection (.parquet)",
        "coll.export_atlas": "Export the map for Embedding Atlas (.parquet)",
        "coll.files": "Files",
        "coll.atlas_help": "Open the map in Apple's Embedding Atlas: `pip install embedding-atlas`, then "
                           "`embedding-atlas FILE.parquet --x projection_x --y projection_y --text caption`.",
        "coll.none_open": "Open a collection first.",
        "coll.progress_open": "Reading the collection",
        "coll.progress_map": "Computing the map (once; later opens read the cache)",
        "coll.info": "**{name}**: {count:,} images · {dim}-d vectors · model {model}. Map: UMAP {how}, "
                     "{seconds} s{cached}. Trustworthiness {trust} on {sample:,} random points "
                     "(1 = every neighbour on the map is a true neighbour; random placement ≈ 0.5).",
        "coll.how_full": "on all points (after PCA to {pca} dimensions)",
        "coll.how_sample": "fitted on {fit:,} sampled points, the rest placed into that map (after PCA to {pca} "
                           "dimensions)",
        "coll.cached": " (read from the cache)",
        "coll.searched": "{n} results from {count:,} vectors: query encoded in {encode:.0f} ms, exact search "
                         "{search:.0f} ms.",
        "coll.fig_points": "images",
        "coll.fig_density": "density",
        "coll.fig_hits": "search hits",
        "coll.clicked": "Nearest images to point #{index} ({path})",
    },
    "zh-CN": {
        "coll.title": "数据集合：你自己的数据集，一万到一百万张图片",
        "coll.intro": "数据集合是一个事先准备好的嵌入文件夹：先用 `python -m clipdemo embed 图片 --out 目录` 生成"
                      "（clip-retrieval 的目录格式），再用 `python app.py --collection 目录` 提供给这里。"
                      "每张图片是一个点；地图用 UMAP 计算一次，并缓存在数据集合旁边。"
                      "把鼠标移到点上可看图片，点击可找最相近的图片，用框选或套索选择一批点。",
        "coll.name": "数据集合",
        "coll.view": "画法",
        "coll.view_auto": "自动",
        "coll.view_points": "散点",
        "coll.view_density": "密度 + 散点",
        "coll.open": "打开数据集合",
        "coll.query": "在整个数据集合中搜索（文字 → 图片）",
        "coll.query_image": "……或用一张图片搜索（图片 → 图片）",
        "coll.k": "结果数",
        "coll.search": "搜索",
        "coll.plot": "数据集合地图",
        "coll.hits": "最相近的图片",
        "coll.hits_table": "按余弦相似度排序（对全部向量的精确搜索）",
        "coll.select_hint": "用图表工具栏的框选或套索在地图上选择点。",
        "coll.selected": "已选择 **{n}** 个点。",
        "coll.export_sel": "导出所选的点（.parquet）",
        "coll.export_atlas": "导出地图给 Embedding Atlas（.parquet）",
        "coll.files": "文件",
        "coll.atlas_help": "在 Apple 的 Embedding Atlas 中打开地图：`pip install embedding-atlas`，然后运行 "
                           "`embedding-atlas 文件.parquet --x projection_x --y projection_y --text caption`。",
        "coll.none_open": "请先打开一个数据集合。",
        "coll.progress_open": "正在读取数据集合",
        "coll.progress_map": "正在计算地图（只算一次，之后从缓存读取）",
        "coll.info": "**{name}**：{count:,} 张图片 · {dim} 维向量 · 模型 {model}。地图：UMAP {how}，"
                     "{seconds} 秒{cached}。在 {sample:,} 个随机点上的可信度（trustworthiness）为 {trust}"
                     "（1 = 地图上的每个邻居都是真正的邻居；随机摆放约为 0.5）。",
        "coll.how_full": "作用于全部点（先用 PCA 降到 {pca} 维）",
        "coll.how_sample": "在 {fit:,} 个抽样点上拟合，其余的点放入这张地图（先用 PCA 降到 {pca} 维）",
        "coll.cached": "（从缓存读取）",
        "coll.searched": "从 {count:,} 个向量中得到 {n} 个结果：查询编码 {encode:.0f} 毫秒，精确搜索 {search:.0f} 毫秒。",
        "coll.fig_points": "图片",
        "coll.fig_density": "密度",
        "coll.fig_hits": "搜索结果",
        "coll.clicked": "与第 {index} 个点（{path}）最相近的图片",
    },
}
