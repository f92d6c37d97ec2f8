#!/usr/bin/python3
"""Draws the bundled posters (config/notices/posters/*.png) that library notices carry (docs/rich-notices.md).

Each is a 750x1050 PNG in a 16-colour palette (well under 500 KB): a red band with the title, the warning lines in
large type for phones, and the 96110 footer. Needs Pillow and the Noto Sans CJK fonts (fonts-noto-cjk); the test
command does not run it — the PNGs are committed. Usage: /usr/bin/python3 scripts/make-posters.py
"""
import os

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
RED, DARK, CREAM, WHITE = (196, 30, 36), (40, 40, 40), (255, 248, 231), (255, 255, 255)
WIDTH, HEIGHT = 750, 1050

POSTERS = {
    "five-donts": ("防骗“五不”", ["不回拨 陌生来电", "不轻信 自称公检法", "不点击 陌生链接", "不透露 验证码", "不转账 先核实"]),
    "96110": ("96110 来电请接听", ["反诈预警劝阻专线", "它打给您：请一定接听", "您打给它：可疑就咨询", "存进通讯录 备注“反诈”"]),
    "elderly-pension": ("养老诈骗 要当心", ["高回报养老项目 不信", "养老院预交大钱 不交", "保本保息承诺 不听", "掏钱前 和儿女商量"]),
    "brushing": ("刷单返利 全是骗局", ["先给甜头 再骗大钱", "“连单”“垫付” 别上当", "不加群 不下载陌生App", "已被骗 速拨110"]),
    "ai-face-swap": ("视频借钱 也要核实", ["AI能换脸 也能变声", "挂断后 回拨常用号码", "家人约定 一个暗号", "涉及转账 多打个电话"]),
    "court-summons": ("“传票”“通缉令” 是假的", ["法院不用语音按键", "执法部门不让转账", "让您保密的 是诈骗", "接到电话 拨110核实"]),
}


def draw(title, lines, path):
    image = Image.new("RGB", (WIDTH, HEIGHT), CREAM)
    pen = ImageDraw.Draw(image)
    pen.rectangle([0, 0, WIDTH, 230], fill=RED)
    pen.text((WIDTH // 2, 70), "反诈提醒", font=ImageFont.truetype(FONT, 40), fill=WHITE, anchor="mm")
    size = 72
    while ImageFont.truetype(FONT, size).getlength(title) > WIDTH - 60:
        size -= 4
    pen.text((WIDTH // 2, 155), title, font=ImageFont.truetype(FONT, size), fill=WHITE, anchor="mm")
    body = ImageFont.truetype(FONT, 46)
    top = 300
    for line in lines:
        pen.ellipse([50, top - 14, 78, top + 14], fill=RED)
        pen.text((100, top), line, font=body, fill=DARK, anchor="lm")
        top += 120
    pen.rectangle([0, HEIGHT - 170, WIDTH, HEIGHT], fill=RED)
    pen.text((WIDTH // 2, HEIGHT - 115), "反诈专线 96110", font=ImageFont.truetype(FONT, 52), fill=WHITE, anchor="mm")
    pen.text((WIDTH // 2, HEIGHT - 50), "遇到可疑 先挂断 再核实", font=ImageFont.truetype(FONT, 34), fill=WHITE,
             anchor="mm")
    image.quantize(colors=16).save(path, optimize=True)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(__file__), "..", "config", "notices", "posters")
    os.makedirs(out, exist_ok=True)
    for name, (title, lines) in POSTERS.items():
        draw(title, lines, os.path.join(out, name + ".png"))
