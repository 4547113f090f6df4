"""Every user-visible string of the Similarity tab, in English and Simplified Chinese."""

STRINGS = {
    "en": {
        "sim.tab": "Similarity heatmaps",
        "sim.intro": "CLIP scores every image against every text; training pushes up the diagonal of this matrix "
                     "(the true pairs) and pushes down the rest. **Look at** how bright the diagonal is compared "
                     "with its row and column, and how the logit scale s (= 1/temperature τ) sharpens the softmax. Then click a cell to "
                     "see *where* in the picture the text matches.",
        "sim.images": "Images (several)",
        "sim.texts": "Texts (one per line; text i describes image i for a paired batch)",
        "sim.run": "Build the matrix",
        "sim.toy": "Toy batch (one click)",
        "sim.toy_files": "Bundled toy pictures",
        "sim.photos": "Bundled photos",
        "sim.mode": "Show",
        "sim.mode_cosine": "cosine",
        "sim.mode_softmax_texts": "softmax over texts",
        "sim.mode_softmax_images": "softmax over images",
        "sim.scale": "Logit scale s (= 1/temperature τ)",
        "sim.scale_info": "logit = s × cosine. Slide right (higher s, lower τ) to sharpen the softmax, left to "
                          "flatten it. Set to the model's own value after each build.",
        "sim.matrix": "Image × text matrix",
        "sim.table": "Scores — click a cell to see where that text matches in that image",
        "sim.numbers": "Numbers (JSON, as the API returns them)",
        "sim.spatial": "Where does the text match?",
        "sim.spatial_intro": "**decomposition** (gradient-free): in the last layers the class token collects "
                             "what its attention takes from each patch, so the image–text cosine splits into one term "
                             "per patch. The map shows what each patch *gave* the image embedding towards the text. "
                             "**gradcam** (gradients): the gradient of the image–text cosine with respect to the class "
                             "token's attention in the last layers, times that attention; patches whose attention "
                             "pushes the score up light up. **surgery** (gradient-free, CLIP Surgery): each patch's "
                             "own token on a value-value attention path, compared with the text minus an empty "
                             "prompt; on the small bundled model it mostly outlines objects. **naive**: each patch's "
                             "own final token compared with the text — it often lights up the *other* object "
                             "(CLIP's \"opposite visualisation\"). All maps are computed at half-patch shifts, so "
                             "the grid is twice as fine as the model's patches.",
        "sim.pair_image": "Image from the batch",
        "sim.pair_text": "Text from the batch",
        "sim.image": "Image",
        "sim.text": "Text",
        "sim.method": "Method",
        "sim.run_map": "Show the map",
        "sim.opacity": "Overlay opacity",
        "sim.overlay": "Overlay (ring: hottest point)",
        "sim.overlay_pair": "Overlay of {image} × “{text}” (ring: hottest point)",
        "sim.col_image": "image",
        "sim.method_decomposition": "decomposition",
        "sim.method_gradcam": "gradcam",
        "sim.method_surgery": "surgery",
        "sim.method_naive": "naive",
        "sim.linked_hint": "Click a cell of the matrix (or the table): its image–text pair's map appears here. "
                           "The bar beside a map is its colour scale: 0 = the patch least related to the text, "
                           "1 = the most related.",
        "sim.raw": "Raw map (one colour per grid cell)",
        "sim.map_numbers": "Relevance grid (JSON)",
        "sim.paired": "**Paired batch** (text *i* describes image *i*; diagonal outlined). CLIP's contrastive loss "
                      "at logit scale s = {t:.1f} (τ = {tau:.3f}): image→text **{i2t:.3f}**, text→image **{t2i:.3f}**, mean **{mean:.3f}** "
                      "(a model that knows nothing: log {n} = {chance:.3f}).",
        "sim.paired_siglip": "**Paired batch** (diagonal outlined). SigLIP's sigmoid loss at scale t = {t:.1f}, "
                             "bias {b:+.2f}: **{loss:.3f}**.",
        "sim.unpaired": "{n} images × {m} texts. With as many texts as images (text *i* for image *i*) the "
                        "diagonal and the training loss are shown too.",
        "sim.sigmoid_note": "This is a SigLIP model: it scores each (image, text) cell on its own with a sigmoid, "
                            "so both softmax views show sigmoid(t·cos + b) instead.",
        "sim.model_t": "The model's own logit scale: s = {t:.1f} (temperature τ = 1/s = {tau:.3f}).",
        "sim.map_notes": "Whole-image cosine with the text: **{score:+.3f}** · method **{method}** · the model's "
                         "{patches} patches, shown on a {grid} grid (half-patch shifts).",
        "sim.map_cropped": "The model sees only the framed centre of this image (its processor crops); the dimmed "
                           "part gets no score.",
        "sim.unavailable": "No spatial map for this model: {reason}",
        "sim.no_images": "Add some images first (upload, or one of the buttons).",
        "sim.no_batch": "Build a matrix first, or upload an image below.",
        "sim.skipped": "skipped: {problem}",
        "sim.too_many": "Only the first {n} images / texts are used.",
    },
    "zh-CN": {
        "sim.tab": "相似度热图",
        "sim.intro": "CLIP 会给每张图片和每段文字打分；训练让这个矩阵的对角线（真正配对的图文）变高，其余变低。"
                     "**注意观察**：对角线与所在行、列相比有多亮，以及 logit 缩放 s（= 1/温度 τ）如何让 softmax 变尖锐。然后点击一个格子，"
                     "看看这段文字对应图片的*哪个位置*。",
        "sim.images": "图片（可多张）",
        "sim.texts": "文字（每行一段；配对时第 i 段描述第 i 张图）",
        "sim.run": "生成矩阵",
        "sim.toy": "一键生成玩具批次",
        "sim.toy_files": "内置玩具图片",
        "sim.photos": "内置照片",
        "sim.mode": "显示",
        "sim.mode_cosine": "余弦相似度",
        "sim.mode_softmax_texts": "对文字做 softmax",
        "sim.mode_softmax_images": "对图片做 softmax",
        "sim.scale": "logit 缩放 s（= 1/温度 τ）",
        "sim.scale_info": "logit = s × 余弦相似度。向右拖（s 更大、τ 更小）softmax 变尖锐，向左拖变平缓。"
                          "每次生成后设为模型自身的值。",
        "sim.matrix": "图片 × 文字矩阵",
        "sim.table": "分数——点击一个格子，查看这段文字在这张图中对应的位置",
        "sim.numbers": "数值（JSON，与 API 返回的相同）",
        "sim.spatial": "文字对应图片的哪里？",
        "sim.spatial_intro": "**decomposition**（无需梯度）：在最后几层，类别 token 通过注意力从每个图块收集信息，"
                             "因此图文余弦相似度可以拆成每个图块一项。热图显示每个图块*贡献*给图像向量、指向这段文字的"
                             "那部分。**gradcam**（基于梯度）：图文余弦相似度对最后几层中类别 token 注意力的梯度，乘以"
                             "该注意力；注意力推高得分的图块会变亮。**surgery**（无需梯度，CLIP Surgery）：在 "
                             "value-value 注意力路径上取每个图块自己的 token，与“文字减去空提示语”比较；在内置的小模型上"
                             "它主要勾勒出物体的轮廓。**naive**：每个图块自己的最终 token 与文字比较——它常常点亮*另一个*"
                             "物体（CLIP 的“相反可视化”）。所有热图都在半个图块的平移下计算，所以网格比模型的图块细一倍。",
        "sim.pair_image": "批次中的图片",
        "sim.pair_text": "批次中的文字",
        "sim.image": "图片",
        "sim.text": "文字",
        "sim.method": "方法",
        "sim.run_map": "显示热图",
        "sim.opacity": "叠加不透明度",
        "sim.overlay": "叠加图（圆圈：最热点）",
        "sim.overlay_pair": "叠加图：{image} × “{text}”（圆圈：最热点）",
        "sim.col_image": "图片",
        "sim.method_decomposition": "分解（decomposition）",
        "sim.method_gradcam": "梯度（gradcam）",
        "sim.method_surgery": "CLIP Surgery（手术法）",
        "sim.method_naive": "朴素（naive）",
        "sim.linked_hint": "点击矩阵（或表格）中的一个格子：这一对图文的热图会显示在这里。"
                           "热图旁的色条是它的颜色刻度：0 = 与文字最不相关的图块，1 = 最相关的图块。",
        "sim.raw": "原始热图（每个网格单元一种颜色）",
        "sim.map_numbers": "相关性网格（JSON）",
        "sim.paired": "**配对批次**（第 *i* 段文字描述第 *i* 张图；对角线已框出）。logit 缩放 s = {t:.1f}（τ = {tau:.3f}）下 CLIP 的对比损失："
                      "图→文 **{i2t:.3f}**，文→图 **{t2i:.3f}**，平均 **{mean:.3f}**"
                      "（什么都不懂的模型：log {n} = {chance:.3f}）。",
        "sim.paired_siglip": "**配对批次**（对角线已框出）。缩放 t = {t:.1f}、偏置 {b:+.2f} 下 SigLIP 的 sigmoid 损失："
                             "**{loss:.3f}**。",
        "sim.unpaired": "{n} 张图片 × {m} 段文字。文字与图片数量相同（第 i 段对应第 i 张）时，还会显示对角线和训练损失。",
        "sim.sigmoid_note": "这是 SigLIP 模型：它用 sigmoid 单独给每个（图片，文字）格子打分，所以两个 softmax 视图"
                            "显示的是 sigmoid(t·cos + b)。",
        "sim.model_t": "模型自身的 logit 缩放：s = {t:.1f}（温度 τ = 1/s = {tau:.3f}）。",
        "sim.map_notes": "整张图与文字的余弦相似度：**{score:+.3f}** · 方法 **{method}** · 模型的 {patches} 图块，"
                         "以 {grid} 网格显示（半个图块的平移）。",
        "sim.map_cropped": "模型只看到这张图中被框出的中心部分（处理器会裁剪）；变暗的部分没有分数。",
        "sim.unavailable": "此模型无法生成空间热图：{reason}",
        "sim.no_images": "请先添加图片（上传，或点击上面的按钮）。",
        "sim.no_batch": "请先生成矩阵，或在下方上传一张图片。",
        "sim.skipped": "已跳过：{problem}",
        "sim.too_many": "只使用前 {n} 张图片 / 段文字。",
    },
}
