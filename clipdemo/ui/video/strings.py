"""Every user-visible string of the Video tab, in English and Simplified Chinese."""

STRINGS = {
    "en": {
        "vid.tab": "Video search",
        "vid.intro": "CLIP looks at pictures, and a video is many pictures. Frames are sampled a few times a second, "
                     "each is embedded, and its **cosine** with your query is drawn over time: one curve per query. "
                     "The dotted line is the video's median frame, what an unrelated frame scores here; a *moment* "
                     "is a run of frames above halfway from that line to the best frame. Click a moment to see its "
                     "frame and jump the video there.",
        "vid.video": "Video (MP4, WebM, MOV; at most 15 min, 1080p)",
        "vid.query": "Look for (one query per line; any language the model reads)",
        "vid.query_image": "…or a picture to look for (optional)",
        "vid.fps": "Frames sampled per second",
        "vid.run": "Search the video",
        "vid.example": "Toy video (one click)",
        "vid.timeline": "Cosine of each frame with each query",
        "vid.moments": "Best moments — click one to see its frame and jump the video there",
        "vid.frame": "The frame",
        "vid.numbers": "Numbers (JSON, as /video_search returns them)",
        "vid.no_video": "Add a video first (or click “Toy video”).",
        "vid.summary": "{frames} frames sampled at {fps}/s over {duration} s. Best for “{query}”: {best} s "
                       "(cosine {score}; the median frame scores {baseline}).",
        "vid.seek": "Moment {start}–{end} s, peak at {peak} s (cosine {score}); the video jumped there.",
        "vid.axis_time": "time (s)",
        "vid.axis_score": "cosine with the query",
        "vid.median": "median frame",
        "vid.example_query": "a red circle\n红色圆形\na yellow star",
    },
    "zh-CN": {
        "vid.tab": "视频搜索",
        "vid.intro": "CLIP 看的是图片，而视频就是许多张图片。每秒抽取几帧，逐帧编码，并把它与查询的**余弦相似度**"
                     "画成随时间变化的曲线：每个查询一条。虚线是这段视频中位数帧的得分，即无关帧在这里的得分；"
                     "*片段*是一串得分高于该虚线与最高帧中点的连续帧。点击片段可查看该帧并让视频跳到那里。",
        "vid.video": "视频（MP4、WebM、MOV；最长 15 分钟，最高 1080p）",
        "vid.query": "要找的内容（每行一个查询；模型能读的任何语言）",
        "vid.query_image": "……或者要找的图片（可选）",
        "vid.fps": "每秒抽取的帧数",
        "vid.run": "搜索视频",
        "vid.example": "玩具视频（一键）",
        "vid.timeline": "每一帧与每个查询的余弦相似度",
        "vid.moments": "最佳片段 —— 点击可查看该帧并让视频跳到那里",
        "vid.frame": "该帧",
        "vid.numbers": "数值（JSON，与 /video_search 的返回相同）",
        "vid.no_video": "请先添加视频（或点击“玩具视频”）。",
        "vid.summary": "共抽取 {frames} 帧，每秒 {fps} 帧，时长 {duration} 秒。“{query}”的最佳时刻：{best} 秒"
                       "（余弦 {score}；中位数帧得分 {baseline}）。",
        "vid.seek": "片段 {start}–{end} 秒，峰值在 {peak} 秒（余弦 {score}）；视频已跳到那里。",
        "vid.axis_time": "时间（秒）",
        "vid.axis_score": "与查询的余弦相似度",
        "vid.median": "中位数帧",
        "vid.example_query": "红色圆形\na red circle\n黄色星形",
    },
}
