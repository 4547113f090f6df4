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
        "coll.insight": "What the embeddings say about the collection",
        "coll.layer": "Layer on the map",
        "coll.layer_none": "none",
        "coll.layer_clusters": "clusters (named)",
        "coll.layer_duplicates": "near-duplicates",
        "coll.layer_mismatched": "captions that do not fit",
        "coll.layer_outliers": "outliers",
        "coll.layer_show": "Show the layer",
        "coll.layer_file": "The whole table (parquet, with its parameters)",
        "coll.layer_table": "Table (first 200 rows; the file holds all)",
        "coll.layer_clusters_note": "{k} k-means clusters, each named by the caption word that sets it apart most "
                                    "(zero-shot with the collection's model).",
        "coll.layer_duplicates_note": "{n} pictures in {groups} groups at cosine ≥ {threshold}. Candidates to look at: "
                                      "a model that sees content also joins different pictures of the same thing.",
        "coll.layer_mismatched_note": "Worst-fitting captions first (the 40 worst are ringed): mismatch = how much "
                                      "better a neighbour's caption fits the picture than its own; above 0 it does.",
        "coll.layer_outliers_note": "Most isolated pictures first (the 40 most are ringed): 1 − mean cosine with the "
                                    "{k} nearest pictures.",
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
        "coll.insight": "嵌入揭示的数据集情况",
        "coll.layer": "地图图层",
        "coll.layer_none": "无",
        "coll.layer_clusters": "聚类（带名称）",
        "coll.layer_duplicates": "近似重复",
        "coll.layer_mismatched": "不相符的说明文字",
        "coll.layer_outliers": "离群点",
        "coll.layer_show": "显示图层",
        "coll.layer_file": "完整表格（parquet，含参数）",
        "coll.layer_table": "表格（前 200 行；文件包含全部）",
        "coll.layer_clusters_note": "{k} 个 k-means 聚类，每个以最能区分它的说明文字词语命名（用数据集的模型做零样本）。",
        "coll.layer_duplicates_note": "{n} 张图片分成 {groups} 组，余弦 ≥ {threshold}。这些只是待查看的候选："
                                      "只看内容的模型也会把同一事物的不同图片归在一起。",
        "coll.layer_mismatched_note": "最不相符的说明文字排在前面（最差的 40 个已圈出）：不相符度 = 邻居的说明文字"
                                      "比它自己的更贴合图片的程度；大于 0 即更贴合。",
        "coll.layer_outliers_note": "最孤立的图片排在前面（前 40 个已圈出）：1 − 与最近的 {k} 张图片的平均余弦。",
    },
}
