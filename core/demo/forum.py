"""Demo questions, answers and replies for seed_demo: believable, not real people.

Times read as a forum's would: ``asked`` is (days before the seed, the
clock in the site's zone); an answer's ``after`` counts hours from the
question, a reply's from what it replies to, and each thanks and the
acceptance (hours, or None) from the answer. Everything ends before the
day of the seed, so the demo never lies in the future.
"""

QUESTIONS = [
    {
        "key": "xelox-nausea",
        "author": "patient.zhang@shukang.example",
        "category": "colorectal-cancer",
        "tags": ["chemotherapy", "side-effects"],
        "asker": "self",
        "stage": "III",
        "treatment": "chemotherapy",
        "regimen": "XELOX",
        "cycle": 3,
        "title": "XELOX第三周期后恶心呕吐加重，怎么缓解？",
        "asked": (34, "21:40"),
        "body": "结肠癌术后辅助化疗，现在是XELOX第三个周期。每次输完奥沙利铂后的三四天恶心得厉害，吃不下饭，"
        "体重掉了两公斤。止吐药按医嘱吃了。\n\n请问：\n\n- 饮食上有什么办法？\n- 需要和主治医生说调整止吐方案吗？",
        "answers": [
            {
                "doctor": "dr.chen@shukang.example",
                "after": 14.5,
                "body": "化疗相关的恶心在第二、三周期加重很常见，可以改善：\n\n1. **一定要告诉主治医生**：止吐方案可以升级，"
                "例如加用NK-1受体拮抗剂或奥氮平。\n2. 少量多餐，选择清淡、常温或偏凉的食物，避开油腻和气味重的饭菜。\n"
                "3. 每天称体重；一周内下降超过2公斤，或者连续24小时无法进食进水，请及时就医。\n\n"
                "奥沙利铂还会引起遇冷手脚麻木，这几天不要喝冰水、不要直接接触冷的东西。",
                "thanks": [
                    ("patient.zhang@shukang.example", 3),
                    ("patient.liu@shukang.example", 27),
                ],
                "accepted": 3.1,
                "replies": [
                    {
                        "author": "patient.zhang@shukang.example",
                        "after": 3.2,
                        "body": "谢谢陈医生！下周复诊时我会和主治医生说止吐药的事。",
                    },
                ],
            }
        ],
        "replies": [
            {
                "author": "caregiver.zhao@shukang.example",
                "after": 20.5,
                "body": "我爸爸化疗时喝点姜茶、吃苏打饼干会好一些，供参考。",
            },
        ],
    },
    {
        "key": "gist-imatinib",
        "author": "patient.liu@shukang.example",
        "category": "gist",
        "tags": ["targeted-therapy"],
        "asker": "self",
        "stage": "",
        "treatment": "targeted",
        "regimen": "Imatinib 400 mg",
        "cycle": None,
        "title": "胃间质瘤术后吃伊马替尼，眼睑浮肿正常吗？",
        "asked": (26, "08:15"),
        "body": "胃GIST切除后，医生说是高危，开始吃伊马替尼400mg已经两个月。最近早上起来眼皮肿，下午会好一点，"
        "还有些腿抽筋。请问这些是药物副作用吗？需要停药吗？",
        "answers": [
            {
                "doctor": "dr.wang@shukang.example",
                "after": 5.25,
                "body": "眼睑水肿和肌肉痉挛都是伊马替尼很常见的副作用，多数是轻度的，**不要自行停药**：高危GIST术后通常建议服药三年，"
                "擅自停药会增加复发风险。\n\n可以减少晚上的盐分和饮水，睡觉时把枕头垫高一点；腿抽筋可以请医生查一下血钙、血镁。"
                "如果出现全身明显浮肿、体重快速增加或呼吸困难，请尽快就诊。",
                "thanks": [("patient.liu@shukang.example", 1.5)],
                "accepted": None,
                "replies": [],
            }
        ],
        "replies": [],
    },
    {
        "key": "hipec-recovery",
        "author": "caregiver.zhao@shukang.example",
        "category": "gastric-cancer",
        "tags": ["hyperthermia-hipec", "nutrition"],
        "asker": "family",
        "stage": "IV",
        "treatment": "hyperthermia",
        "regimen": "",
        "cycle": None,
        "title": "My father had HIPEC last week: what should he eat during recovery?",
        "asked": (19, "19:05"),
        "body": "My father (68) had cytoreductive surgery with HIPEC for gastric cancer with peritoneal spread. "
        "He is home now and eats very little. What should we give him in the first weeks, and what signs "
        "mean we should go back to the hospital?",
        "answers": [
            {
                "doctor": "dr.wang@shukang.example",
                "after": 15.4,
                "body": "Recovery after HIPEC takes weeks. In the first weeks: small meals five or six times a day, soft and "
                "protein-rich (eggs, fish, tofu, yoghurt), and oral nutrition drinks if he eats less than half his usual amount.\n\n"
                "Go back to the hospital at once for fever above 38.5 °C, worsening abdominal pain or swelling, vomiting that "
                "does not stop, or redness or fluid at the wound.",
                "thanks": [("caregiver.zhao@shukang.example", 4)],
                "accepted": 4.1,
                "replies": [],
            }
        ],
        "replies": [],
    },
    {
        "key": "pancreatic-pain",
        "author": "patient.zhang@shukang.example",
        "category": "hepatobiliary-pancreatic-cancer",
        "tags": ["side-effects"],
        "asker": "family",
        "stage": "IV",
        "treatment": "chemotherapy",
        "regimen": "AG",
        "cycle": 2,
        "title": "妈妈胰腺癌晚期，后背疼得睡不着，止痛药可以加量吗？",
        "asked": (4, "23:20"),
        "body": "妈妈胰腺癌肝转移，在做AG方案化疗。最近后背疼得晚上睡不着，现在吃的是医生开的止痛药，一天两次。"
        "我们担心吃多了会成瘾，能不能加量？还有别的办法吗？",
        "answers": [],
        "replies": [],
    },
    {
        "key": "net-octreotide",
        "author": "patient.liu@shukang.example",
        "category": "gep-net",
        "tags": ["clinical-trials"],
        "asker": "self",
        "stage": "",
        "treatment": "none",
        "regimen": "",
        "cycle": None,
        "title": "Are there clinical trials for pancreatic neuroendocrine tumours here?",
        "asked": (2, "16:45"),
        "body": "I was diagnosed with a G2 pancreatic NET last month and am waiting for surgery planning. "
        "Does the department run clinical trials for NET patients, and how would I ask to join one?",
        "answers": [],
        "replies": [],
    },
    {
        "key": "stoma-life",
        "author": "caregiver.zhao@shukang.example",
        "category": "living-with-cancer",
        "tags": ["nutrition"],
        "asker": "friend",
        "stage": "",
        "treatment": "surgery",
        "regimen": "",
        "cycle": None,
        "title": "朋友直肠癌术后做了造口，很抗拒出门，我能怎么帮他？",
        "asked": (11, "10:30"),
        "body": "朋友四十多岁，直肠癌手术后做了临时造口，之后几乎不出门，也不愿意和人说话。作为朋友，我能做些什么？"
        "有没有病友的经验可以分享？",
        "answers": [
            {
                "doctor": "dr.chen@shukang.example",
                "after": 26,
                "body": "造口术后的情绪低落很常见。可以先陪他一起见一次造口护士，学会换袋和处理渗漏，很多人的顾虑就少了一半。"
                "舒康沙龙每月也有造口病友的线下交流，欢迎陪他一起来。如果持续两周以上情绪低落、失眠，请让他和医生谈谈，心理支持同样是治疗的一部分。",
                "thanks": [],
                "accepted": None,
                "replies": [
                    {
                        "author": "patient.zhang@shukang.example",
                        "after": 8,
                        "body": "我也有过造口，半年后还纳了。最难的是头一个月，挺过去就好了。",
                    },
                ],
            }
        ],
        "replies": [],
    },
]
