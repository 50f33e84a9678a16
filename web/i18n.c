/*
 * web/i18n.c — the string tables (see i18n.h). One row per key with both languages side by
 * side, so a missing translation is visible in review; keys starting with "err." are API
 * error messages, the others are page strings the JavaScript looks up by key.
 */
#include "i18n.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

typedef struct row {
    const char *key, *en, *zh;
} row;

static const row rows[] = {
    {"site.name", "Soma Movies", "Soma 电影"},
    {"site.tagline", "Recommendations from a spiking neural network", "脉冲神经网络为你推荐电影"},
    {"nav.home", "For you", "为你推荐"},
    {"nav.search", "Search", "搜索"},
    {"nav.upload", "Add a movie", "添加电影"},
    {"nav.prefs", "Preferences", "偏好设置"},
    {"nav.demo", "Demo users", "演示用户"},
    {"nav.login", "Log in", "登录"},
    {"nav.register", "Register", "注册"},
    {"nav.logout", "Log out", "退出"},
    {"auth.username", "User name", "用户名"},
    {"auth.password", "Password", "密码"},
    {"auth.login_title", "Log in", "登录"},
    {"auth.register_title", "Create an account", "创建账号"},
    {"auth.no_account", "No account yet?", "还没有账号？"},
    {"auth.have_account", "Already registered?", "已经注册？"},
    {"auth.hint", "3–32 letters, digits, . _ -; password at least 8 characters",
     "3–32 个字母、数字或 . _ -；密码至少 8 个字符"},
    {"home.title", "Today's recommendations", "今日推荐"},
    {"home.empty", "Nothing to recommend yet.", "暂时没有推荐。"},
    {"home.login_first", "Log in or register to get recommendations.", "登录或注册后即可获得推荐。"},
    {"home.cold", "Based on your favourite genres — rate movies to refine.",
     "根据你喜欢的类型推荐——给电影评分可以让推荐更准确。"},
    {"home.model", "Model", "模型"},
    {"reason.genre", "Because you like %s", "因为你喜欢%s"},
    {"reason.similar", "Similar to %s, which you liked", "与你喜欢的《%s》相似"},
    {"reason.popular", "Popular with viewers like you", "与你相似的观众也喜欢"},
    {"movie.avg", "Average rating", "平均评分"},
    {"movie.ratings", "ratings", "人评分"},
    {"movie.no_ratings", "No ratings yet", "暂无评分"},
    {"movie.genres", "Genres", "类型"},
    {"movie.released", "Released", "上映日期"},
    {"movie.description", "Description", "简介"},
    {"movie.reviews", "Reviews", "影评"},
    {"movie.no_reviews", "No reviews yet.", "还没有影评。"},
    {"movie.your_rating", "Your rating", "你的评分"},
    {"movie.review", "Review (optional)", "短评（可选）"},
    {"movie.rate", "Save rating", "提交评分"},
    {"movie.saved", "Saved. Your recommendations have been updated.", "已保存，推荐已更新。"},
    {"movie.predicted", "Predicted for you", "预测评分"},
    {"movie.details", "Details", "详情"},
    {"search.placeholder", "Search titles…", "搜索片名…"},
    {"search.none", "No movies found.", "没有找到电影。"},
    {"search.title", "Search movies", "搜索电影"},
    {"prefs.title", "Your preferences", "你的偏好"},
    {"prefs.genres", "Favourite genres", "喜欢的类型"},
    {"prefs.lang", "Language", "语言"},
    {"prefs.save", "Save", "保存"},
    {"prefs.saved", "Preferences saved.", "偏好已保存。"},
    {"upload.title", "Add a movie", "添加电影"},
    {"upload.movie_title", "Title", "片名"},
    {"upload.date", "Release date", "上映日期"},
    {"upload.description", "Description", "简介"},
    {"upload.cover", "Cover image (PNG or JPEG, at most 2 MB)", "封面图片（PNG 或 JPEG，不超过 2 MB）"},
    {"upload.submit", "Add movie", "添加"},
    {"demo.title", "MovieLens users", "MovieLens 用户"},
    {"demo.intro", "Browse the recommendations of the MovieLens users the model was trained on.",
     "以模型训练所用的 MovieLens 用户身份浏览推荐。"},
    {"demo.enter", "Use this account", "使用此账号"},
    {"demo.user", "User", "用户"},
    {"demo.age", "Age", "年龄"},
    {"demo.gender", "Gender", "性别"},
    {"demo.occupation", "Occupation", "职业"},
    {"common.more", "More", "更多"},
    {"common.loading", "Loading…", "加载中…"},
    {"common.error", "Something went wrong.", "出错了。"},
    {"err.bad_json", "The request is not valid JSON.", "请求不是有效的 JSON。"},
    {"err.bad_request", "The request is malformed.", "请求格式错误。"},
    {"err.missing", "A required field is missing or invalid.", "缺少必填字段或字段无效。"},
    {"err.username", "User names have 3–32 letters, digits, '.', '_' or '-'.",
     "用户名须为 3–32 个字母、数字或 . _ -。"},
    {"err.password", "Passwords have 8–128 characters.", "密码须为 8–128 个字符。"},
    {"err.taken", "This user name is taken.", "该用户名已被使用。"},
    {"err.login", "Wrong user name or password.", "用户名或密码错误。"},
    {"err.rate_limited", "Too many attempts; try again in a few minutes.",
     "尝试次数过多，请几分钟后再试。"},
    {"err.auth", "Please log in.", "请先登录。"},
    {"err.csrf", "The request was refused (missing or wrong CSRF token).",
     "请求被拒绝（CSRF 令牌缺失或错误）。"},
    {"err.cross_site", "Cross-site requests are refused.", "拒绝跨站请求。"},
    {"err.not_found", "Not found.", "未找到。"},
    {"err.method", "Method not allowed.", "不允许的请求方法。"},
    {"err.too_large", "The request is too large.", "请求过大。"},
    {"err.stars", "Ratings are whole stars from 1 to 5.", "评分须为 1 到 5 的整数星。"},
    {"err.review", "Reviews have at most 1000 bytes.", "短评不能超过 1000 字节。"},
    {"err.title", "Titles have 1–200 bytes.", "片名须为 1–200 字节。"},
    {"err.date", "Release dates are YYYY-MM-DD.", "上映日期格式为 YYYY-MM-DD。"},
    {"err.genres", "Unknown genre.", "未知类型。"},
    {"err.description", "Descriptions have at most 4000 bytes.", "简介不能超过 4000 字节。"},
    {"err.image_type", "Covers must be PNG or JPEG images.", "封面必须是 PNG 或 JPEG 图片。"},
    {"err.image_size", "The cover is too large (2 MB, 4096×4096 pixels at most).",
     "封面过大（最大 2 MB、4096×4096 像素）。"},
    {"err.image_decode", "The cover could not be decoded.", "封面图片无法解码。"},
    {"err.internal", "Internal error.", "服务器内部错误。"},
    {"err.lang", "Unknown language.", "未知语言。"},
    {"err.query", "Search text has 1–100 bytes.", "搜索词须为 1–100 字节。"},
    {"err.demo_off", "Demo accounts are switched off.", "演示账号已关闭。"},
};

static const row genres[] = {
    {"unknown", "Unknown", "未知"},       {"Action", "Action", "动作"},
    {"Adventure", "Adventure", "冒险"},   {"Animation", "Animation", "动画"},
    {"Children's", "Children's", "儿童"}, {"Children", "Children's", "儿童"},
    {"Comedy", "Comedy", "喜剧"},         {"Crime", "Crime", "犯罪"},
    {"Documentary", "Documentary", "纪录片"}, {"Drama", "Drama", "剧情"},
    {"Fantasy", "Fantasy", "奇幻"},       {"Film-Noir", "Film-Noir", "黑色电影"},
    {"Horror", "Horror", "恐怖"},         {"Musical", "Musical", "歌舞"},
    {"Mystery", "Mystery", "悬疑"},       {"Romance", "Romance", "爱情"},
    {"Sci-Fi", "Sci-Fi", "科幻"},         {"Thriller", "Thriller", "惊悚"},
    {"War", "War", "战争"},               {"Western", "Western", "西部"},
};

const char *web_i18n_lang(const char *tag) {
    return tag && strncasecmp(tag, "zh", 2) == 0 ? "zh" : "en";
}

const char *web_i18n(const char *lang, const char *key) {
    bool zh = lang && !strcmp(lang, "zh");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!strcmp(rows[i].key, key)) return zh && rows[i].zh ? rows[i].zh : rows[i].en;
    return key;
}

const char *web_i18n_genre(const char *lang, const char *english) {
    for (size_t i = 0; i < sizeof genres / sizeof genres[0]; i++)
        if (!strcasecmp(genres[i].key, english))
            return lang && !strcmp(lang, "zh") ? genres[i].zh : genres[i].en;
    return english;
}

json_t *web_i18n_table(const char *lang) {
    json_t *t = json_object();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        json_object_set_new(t, rows[i].key, json_string(web_i18n(lang, rows[i].key)));
    return t;
}
